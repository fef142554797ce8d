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

  /* text -> phoneme ids: every output is cleared first, NULL pointers and handles refused */
  int32_t *pids = (int32_t *)&failures;
  size_t n_pids = 7, *plens = (size_t *)&failures, n_plens = 7;
  uint32_t pflags = 9;
  const char *hello = "Hello there. How are you?";
  CHECK(ms_synth_text_to_phonemes(NULL, hello, &pids, &n_pids, &plens, &n_plens, &pflags) ==
        MS_ERR_INVALID_ARGUMENT);
  CHECK(pids == NULL && n_pids == 0 && plens == NULL && n_plens == 0 && pflags == 0);
  CHECK(ms_synth_text_to_phonemes(s, NULL, &pids, &n_pids, &plens, &n_plens, NULL) ==
        MS_ERR_INVALID_ARGUMENT);
  CHECK(strstr(ms_last_error(s), "text is NULL") != NULL);
  CHECK(ms_synth_text_to_phonemes(s, hello, NULL, &n_pids, &plens, &n_plens, NULL) ==
        MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_synth_text_to_phonemes(s, hello, &pids, NULL, &plens, &n_plens, NULL) ==
        MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_synth_text_to_phonemes(s, hello, &pids, &n_pids, NULL, &n_plens, NULL) ==
        MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_synth_text_to_phonemes(s, hello, &pids, &n_pids, &plens, NULL, NULL) ==
        MS_ERR_INVALID_ARGUMENT);
  const ms_status no_fe = lim.has_text_frontend ? MS_ERR_INVALID_TEXT : MS_ERR_MODEL;
  CHECK(ms_synth_text_to_phonemes(s, "a\xff\xfe b", &pids, &n_pids, &plens, &n_plens, NULL) ==
        no_fe);
  CHECK(ms_synth_text_to_phonemes(s, "   ", &pids, &n_pids, &plens, &n_plens, NULL) == no_fe);
  CHECK(pids == NULL && plens == NULL && n_pids == 0 && n_plens == 0);
  st = ms_synth_text_to_phonemes(s, hello, &pids, &n_pids, &plens, &n_plens, &pflags);
  if (lim.has_text_frontend) {
    CHECK(st == MS_OK && n_plens >= 1 && n_pids > n_plens && pflags == 0);
    size_t sum = 0;
    for (size_t i = 0; st == MS_OK && i < n_plens; ++i) sum += plens[i];
    CHECK(sum == n_pids);
    for (size_t i = 0; st == MS_OK && i < n_pids; ++i) {
      CHECK(pids[i] >= 0 && pids[i] < lim.n_symbols);
    }
    /* the same ids as the text: the same audio */
    float *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK(ms_synth_speak(s, hello, NULL, 0, 0, 0, NULL, &a, &na) == MS_OK);
    CHECK(ms_synth_speak_phonemes(s, pids, plens, n_plens, NULL, 0, 0, 0, NULL, &b, &nb) ==
          MS_OK);
    CHECK(na == nb && na > 0 && a && b && memcmp(a, b, na * sizeof(float)) == 0);
    ms_free_audio(a);
    ms_free_audio(b);
  } else {
    CHECK(st == MS_ERR_MODEL && pids == NULL && strlen(ms_last_error(s)) > 0);
  }
  ms_free_phonemes(pids, plens);
  ms_free_phonemes(NULL, NULL);
  if (lim.has_text_frontend) {
    st = ms_synth_text_to_phonemes(s, "Hi <b>you</b>.", &pids, &n_pids, &plens, &n_plens, &pflags);
    CHECK(st == MS_OK && (pflags & MS_CHUNK_TEXT_SKIPPED));
    ms_free_phonemes(pids, plens);
  }

  /* normalizer alone: no handle, the bundle's assets */
  char *words = (char *)&failures;
  CHECK(ms_normalize_text(NULL, "x", &words) == MS_ERR_INVALID_ARGUMENT && words == NULL);
  CHECK(ms_normalize_text("", "x", &words) == MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_normalize_text(argv[1], NULL, &words) == MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_normalize_text(argv[1], "x", NULL) == MS_ERR_INVALID_ARGUMENT);
  CHECK(ms_normalize_text("/nonexistent/bundle", "x", &words) == MS_ERR_MODEL && words == NULL);
  CHECK(strlen(ms_last_error(NULL)) > 0);
  st = ms_normalize_text(argv[1], "Dr. Smith paid $5.", &words);
  if (lim.has_text_frontend) {
    CHECK(st == MS_OK && words && strcmp(words, "doctor smith paid five dollars.") == 0);
    ms_free_string(words);
    CHECK(ms_normalize_text(argv[1], "\xc0\xaf", &words) == MS_ERR_INVALID_TEXT && !words);
    CHECK(ms_normalize_text(argv[1], " \n ", &words) == MS_OK && words && words[0] == 0);
    ms_free_string(words);
  } else {
    CHECK(st == MS_ERR_MODEL && words == NULL);
  }
  ms_free_string(NULL);

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
