/* rndc.c -- placeholder. */
