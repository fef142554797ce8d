/* C11 smoke test of the public ABI: mobilespeech_capi_test BUNDLE_DIR.
 * Builds against mobilespeech.h alone, so it also proves the header is valid C. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobilespeech.h"

static int failures = 0;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                        \
    }                                                                    \
  } while (0)

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BUNDLE_DIR\n", argv[0]);
    return 2;
  }
  printf("%s\n", ms_version());
  CHECK(strcmp(ms_status_string(MS_ERR_MODEL), "MS_ERR_MODEL") == 0);
  CHECK(ms_synth_options_init(NULL) == MS_ERR_INVALID_ARGUMENT);

  /* request limits: no handle, struct_size-versioned */
  ms_request_limits rl;
  memset(&rl, 0, sizeof rl);
  CHECK(ms_get_request_limits(NULL) == MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_get_request_limits(&rl) == MS_ERR_INVALID_ARGUMENT); /* struct_size unset */
  CHECK(strstr(ms_last_error(NULL), "struct_size") != NULL);
  rl.struct_size = 4097;
  CHECK(ms_get_request_limits(&rl) == MS_ERR_INVALID_ARGUMENT);
  rl.struct_size = sizeof(size_t) + sizeof(int32_t); /* an older, shorter layout */
  CHECK(ms_get_request_limits(&rl) == MS_OK);
  CHECK(rl.max_steps_per_layer == 64 && rl.max_threads == 0);
  rl.struct_size = sizeof rl;
  CHECK(ms_get_request_limits(&rl) == MS_OK && rl.struct_size == sizeof rl);
  CHECK(rl.min_length_scale == 0.25f && rl.max_length_scale == 4.0f && rl.max_threads == 256);
  CHECK(rl.max_channels == 64 && rl.min_sample_rate == 1000 && rl.max_sample_rate == 768000);
  CHECK(rl.max_input_seconds == 300.0f && rl.max_input_frames == (int64_t)1 << 24);
  CHECK(rl.phonemes_per_char == 1.5f && rl.max_codebooks == 64);
  CHECK(rl.max_resynth_seconds == 600.0f && rl.max_resynth_frames == (int64_t)1 << 25);
  CHECK(rl.max_utf8_bytes_per_char == 4 && rl.max_pipe_bytes == (int64_t)1 << 26);
  CHECK(rl.max_audio_file_bytes == (int64_t)1 << 30);

  ms_status st = MS_OK;
  CHECK(ms_synth_create(NULL, &st) == NULL && st == MS_ERR_INVALID_ARGUMENT);
  CHECK(strlen(ms_last_error(NULL)) > 0);

  ms_synth_options o;
  ms_synth_options_init(&o);
  o.bundle_dir = "/nonexistent/bundle";
  CHECK(ms_synth_create(&o, &st) == NULL && st == MS_ERR_MODEL);

  o.bundle_dir = argv[1];
  o.num_threads = 2;
  ms_synth *s = ms_synth_create(&o, &st);
  if (!s) {
    fprintf(stderr, "create failed: %s\n", ms_last_error(NULL));
    return 1;
  }
  ms_limits lim;
  memset(&lim, 0, sizeof lim);
  lim.struct_size = sizeof lim;
  CHECK(ms_synth_limits(s, &lim) == MS_OK);
  CHECK(lim.sample_rate == ms_synth_sample_rate(s) && lim.sample_rate > 0);
  CHECK(lim.n_symbols > 4 && ms_synth_symbol(s, 0) != NULL && ms_synth_symbol(s, -1) == NULL);

  ms_audio_chunk c;
  CHECK(ms_synth_next(s, &c) == MS_ERR_STATE);

  int32_t ids[] = {10, 20, 30, 40, 1, 12, 22, 1};
  size_t lengths[] = {5, 3};
  float *all = NULL;
  size_t n_all = 0;
  st = ms_synth_speak_phonemes(s, ids, lengths, 2, NULL, 0, 0, 0, NULL, &all, &n_all);
  CHECK(st == MS_OK && all != NULL && n_all > 0);

  st = ms_synth_start_phonemes(s, ids, lengths, 2, NULL, 0, 0, 0, NULL);
  CHECK(st == MS_OK);
  size_t pos = 0;
  int chunks = 0;
  while ((st = ms_synth_next(s, &c)) == MS_OK) {
    CHECK(c.sample_rate == lim.sample_rate);
    for (size_t i = 0; i < c.n_samples && pos + i < n_all; ++i) {
      CHECK(c.samples[i] == all[pos + i]);
      if (c.samples[i] != all[pos + i]) break;
    }
    pos += c.n_samples;
    chunks++;
  }
  CHECK(st == MS_DONE && pos == n_all && chunks >= 2);
  CHECK(ms_synth_next(s, &c) == MS_DONE);
  ms_free_audio(all);

  /* cancel: the next call after a cancel reports it and ends the synthesis */
  CHECK(ms_synth_start_phonemes(s, ids, lengths, 2, NULL, 0, 0, 0, NULL) == MS_OK);
  CHECK(ms_synth_cancel(s) == MS_OK);
  CHECK(ms_synth_next(s, &c) == MS_ERR_CANCELLED);
  CHECK(ms_synth_next(s, &c) == MS_ERR_STATE);

  /* a silent prompt */
  size_t n = (size_t)lim.sample_rate * 2;
  float *silent = calloc(n, sizeof(float));
  CHECK(ms_synth_start_phonemes(s, ids, lengths, 2, silent, n, lim.sample_rate, 1, NULL) ==
        MS_ERR_INVALID_AUDIO);
  CHECK(strstr(ms_last_error(s), "silent") != NULL);
  free(silent);

  ms_timings t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  CHECK(ms_synth_timings(s, &t) == MS_OK);
  ms_synth_destroy(s);
  ms_synth_destroy(NULL);
  if (failures) {
    fprintf(stderr, "capi_test: %d failure(s)\n", failures);
    return 1;
  }
  printf("capi_test: OK\n");
  return 0;
}
