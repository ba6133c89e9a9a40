/* bindconf.c -- placeholder. */
