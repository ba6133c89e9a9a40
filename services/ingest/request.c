/* request.c -- placeholder. */
