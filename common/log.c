/* log.c -- placeholder until implemented. */
