/* bindbackend.c -- placeholder. */
