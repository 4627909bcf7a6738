/* The TCP modes of ab-testhelper (tcp.c). */
#ifndef AB_TESTHELPER_TCP_H
#define AB_TESTHELPER_TCP_H

int tcp_trouble(long count);
int tcp_resetter(long count);

#endif
