/* The one I/O result convention of forkchat, daemon and client alike: every
 * non-blocking read, write or send (conn, sendq, chan, the client's net/tls)
 * returns one of these, and the caller decides what to do with it. */
#ifndef FC_IO_H
#define FC_IO_H

enum io_result {
	IO_DONE = 0,   /* the whole request was carried out */
	IO_AGAIN = 1,  /* would block: retry when the fd is ready */
	IO_CLOSED = 2, /* the peer closed its side (EOF, EPIPE, reset) */
	IO_ERROR =
		3, /* anything else; errno or the TLS error queue says what */
};

#endif
