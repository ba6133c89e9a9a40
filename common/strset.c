/* strset.c -- placeholder until implemented. */
