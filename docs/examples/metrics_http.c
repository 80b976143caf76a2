/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Serving a store's metrics to Prometheus: a writer thread commits while a
 * tiny HTTP/1.0 responder answers GET /metrics on 127.0.0.1 with
 * rcs_metrics_text (the Prometheus text format).
 *
 *   metrics_http                 serve on an ephemeral port, scrape itself once, exit
 *   metrics_http PORT [N]        serve on PORT (0: any), N requests (default: forever)
 *
 * It prints "listening on 127.0.0.1:<port>" once it accepts connections.
 * A real host would serve from its own HTTP stack: what matters here is the
 * size protocol of rcs_metrics_text (ask, allocate, fill, ask again if the
 * text grew) and that a scrape never waits behind a commit. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, sockets under -std=c11 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rcustate/rcustate.h"

static rcs_store *store;
static atomic_int stop_writer;

static void *writer(void *arg) {
  (void)arg;
  int64_t one = 1;
  for (uint64_t i = 0; !atomic_load(&stop_writer); ++i) {
    char key[32];
    int n = snprintf(key, sizeof key, "user-%llu", (unsigned long long)(i % 1000));
    uint32_t p = (uint32_t)(i % 4);
    uint64_t version;
    if (rcs_merge(store, p, 0, key, (size_t)n, &one, sizeof one) != RCS_OK ||
        rcs_commit(store, p, &version) != RCS_OK) {
      fprintf(stderr, "writer: %s\n", rcs_last_error());
      return NULL;
    }
    if (i % 64 == 0) { /* a stream processor's pace, not a busy loop */
      struct timespec ms = {0, 1000 * 1000};
      nanosleep(&ms, NULL);
    }
  }
  return NULL;
}

/* The metrics text, in a buffer kept from one scrape to the next so that a
 * scrape usually builds the text once (NULL on failure). */
static char *metrics(size_t *len) {
  static char *buf;
  static size_t cap;
  size_t needed = 0;
  int rc = rcs_metrics_text(store, buf, cap, &needed);
  while (rc == RCS_ERANGE) { /* too small, or grown with new partitions: ask again */
    char *bigger = realloc(buf, needed + needed / 4);
    if (bigger == NULL) return NULL;
    buf = bigger;
    cap = needed + needed / 4;
    rc = rcs_metrics_text(store, buf, cap, &needed);
  }
  if (rc != RCS_OK) {
    fprintf(stderr, "rcs_metrics_text: %s\n", rcs_last_error());
    return NULL;
  }
  *len = needed - 1;
  return buf;
}

static void respond(int fd) {
  char req[1024];
  ssize_t got = read(fd, req, sizeof req - 1);
  if (got <= 0) return;
  req[got] = '\0';
  char head[256];
  size_t len = 0;
  char *body = NULL;
  if (strncmp(req, "GET /metrics ", 13) == 0 && (body = metrics(&len)) != NULL) {
    snprintf(head, sizeof head,
             "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
             "Content-Length: %zu\r\n\r\n", len);
  } else {
    snprintf(head, sizeof head, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
  if (write(fd, head, strlen(head)) < 0 || (body != NULL && write(fd, body, len) < 0)) {
    perror("write");
  }
}

/* The self-test of the no-argument run: one scrape through a socket. */
static int scrape_once(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
  if (write(fd, req, strlen(req)) < 0) return -1;
  static char resp[1 << 20];
  size_t total = 0;
  ssize_t n;
  while (total < sizeof resp - 1 && (n = read(fd, resp + total, sizeof resp - 1 - total)) > 0) {
    total += (size_t)n;
  }
  resp[total] = '\0';
  close(fd);
  return strncmp(resp, "HTTP/1.0 200 OK", 15) == 0 && strstr(resp, "\nrcustate_commits_total ")
             ? 0 : -1;
}

static void *self_scrape(void *port) {
  return (void *)(intptr_t)scrape_once(*(int *)port);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  long requests = argc > 2 ? atol(argv[2]) : (argc > 1 ? -1 : 1);

  rcs_table_spec spec = {"clicks", RCS_MERGE_ADD_I64, 0};
  rcs_options opts;
  rcs_options_init(&opts);
  opts.tables = &spec;
  opts.num_tables = 1;
  if (rcs_store_open(&opts, &store) != RCS_OK) {
    fprintf(stderr, "open: %s\n", rcs_last_error());
    return 1;
  }
  for (uint32_t p = 0; p < 4; ++p) rcs_partition_create(store, p);
  pthread_t w;
  pthread_create(&w, NULL, writer, NULL);

  int srv = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof addr;
  if (bind(srv, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(srv, 16) != 0 ||
      getsockname(srv, (struct sockaddr *)&addr, &alen) != 0) {
    perror("bind/listen");
    return 1;
  }
  port = ntohs(addr.sin_port);
  printf("listening on 127.0.0.1:%d\n", port);
  fflush(stdout);

  pthread_t client;
  if (argc == 1) pthread_create(&client, NULL, self_scrape, &port);
  for (long served = 0; requests < 0 || served < requests; ++served) {
    int fd = accept(srv, NULL, NULL);
    if (fd < 0) continue;
    respond(fd);
    close(fd);
  }
  int rc = 0;
  if (argc == 1) {
    void *result;
    pthread_join(client, &result);
    rc = result == NULL ? 0 : 1;
    printf("self-scrape %s\n", rc == 0 ? "ok" : "FAILED");
  }
  close(srv);
  atomic_store(&stop_writer, 1);
  pthread_join(w, NULL);
  return rcs_store_close(store) == RCS_OK ? rc : 1;
}
