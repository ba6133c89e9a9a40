/* answer.c -- placeholder until implemented. */
