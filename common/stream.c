/* stream.c -- placeholder until implemented. */
