/* http.c -- placeholder. */
