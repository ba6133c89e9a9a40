/* form.c -- placeholder until implemented. */
