/*
 * relay PORT TO: a proxy with nothing in it, for bench/floor.sh.  Every
 * datagram that reaches 127.0.0.1:PORT goes on to 127.0.0.1:TO from a
 * socket of its own; every datagram that comes back to that socket goes
 * to whoever last sent to PORT (the one caller sipp).  No parsing, no
 * state: the two hops and four wake-ups a SIP proxy adds to a call's
 * path, and nothing else.  Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static int udp_socket(unsigned short port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int bufsize = 4 << 20;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("relay: socket");
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize,
			 sizeof(bufsize));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET}, caller = {0};
	socklen_t callerlen = sizeof(caller);
	struct pollfd fds[2];
	char buf[65536];

	if (argc != 3) {
		fprintf(stderr, "usage: relay PORT TO\n");
		return 2;
	}
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	fds[0] = (struct pollfd){.fd = udp_socket((unsigned short)atoi(argv[1])),
				 .events = POLLIN};
	fds[1] = (struct pollfd){.fd = udp_socket(0), .events = POLLIN};

	for (;;) {
		ssize_t n;

		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[0].revents & POLLIN) {
			callerlen = sizeof(caller);
			n = recvfrom(fds[0].fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&caller, &callerlen);
			if (n > 0)
				(void)sendto(fds[1].fd, buf, (size_t)n, 0,
					     (struct sockaddr *)&to, sizeof(to));
		}
		if (fds[1].revents & POLLIN) {
			n = recv(fds[1].fd, buf, sizeof(buf), 0);
			if (n > 0 && caller.sin_port)
				(void)sendto(fds[0].fd, buf, (size_t)n, 0,
					     (struct sockaddr *)&caller,
					     callerlen);
		}
	}
}
