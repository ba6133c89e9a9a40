/* api.c -- placeholder. */
