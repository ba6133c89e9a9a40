/* zone.c -- placeholder until implemented. */
