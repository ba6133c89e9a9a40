/* rconn.c -- placeholder until implemented. */
