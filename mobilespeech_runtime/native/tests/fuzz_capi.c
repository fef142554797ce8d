/* Randomized C ABI fuzz harness: mobilespeech_fuzz --bundle DIR [--calls N] [--seed S].
 *
 * Makes N calls with random arguments: NULL pointers, wrong struct sizes, garbage text and PCM,
 * out-of-range rates, channels, ids, steps and lengths, and bundles that are truncated, have
 * flipped bytes, missing or swapped files, or a randomly mutated manifest. Every call must
 * return a documented status, never crash, and valid output must be finite and in [-1, 1].
 * Meant to run under the ASan+UBSan build (LeakSanitizer checks for leaks at exit).
 * Prints one JSON line: {"calls": N, "violations": V, ...}; exit status 1 if V > 0. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mobilespeech.h"

/* ---- utilities ------------------------------------------------------------------------------ */

static uint64_t g_rng = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) { /* xorshift64* */
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 0x2545F4914F6CDD1DULL;
}
static uint32_t below(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static int chance(double p) { return (double)(rnd() >> 11) / 9007199254740992.0 < p; }

static long long g_calls = 0, g_violations = 0;
static long long g_status[16];
static long long g_chunks = 0, g_creates_ok = 0, g_creates_failed = 0, g_utterances = 0;

static void violation(const char *what, const char *detail) {
  g_violations++;
  if (g_violations <= 20) fprintf(stderr, "VIOLATION: %s: %s\n", what, detail ? detail : "");
}

static void count(ms_status st) {
  g_calls++;
  if ((int)st >= 0 && (int)st < 16) g_status[(int)st]++;
  if ((int)st < MS_OK || (int)st > MS_ERR_NO_MEMORY) violation("undocumented status", "");
  if (st == MS_ERR_INTERNAL) violation("MS_ERR_INTERNAL", ms_last_error(NULL));
}

static int read_file(const char *path, unsigned char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (n < 0) {
    fclose(f);
    return 0;
  }
  *data = malloc((size_t)n + 1);
  *size = fread(*data, 1, (size_t)n, f);
  fclose(f);
  return 1;
}

static int write_file(const char *path, const unsigned char *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t w = fwrite(data, 1, size, f);
  fclose(f);
  return w == size;
}

static void path_join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap) {
    fprintf(stderr, "path too long: %s/%s\n", dir, name);
    exit(2);
  }
}

/* Copies every regular file of `src` into `dst` (created). */
static int copy_dir(const char *src, const char *dst) {
  if (mkdir(dst, 0700) != 0 && errno != EEXIST) return 0;
  DIR *d = opendir(src);
  if (!d) return 0;
  struct dirent *e;
  char a[4096], b[4096];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    path_join(a, sizeof a, src, e->d_name);
    struct stat st;
    if (stat(a, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    unsigned char *data;
    size_t size;
    if (!read_file(a, &data, &size)) continue;
    path_join(b, sizeof b, dst, e->d_name);
    write_file(b, data, size);
    free(data);
  }
  closedir(d);
  return 1;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    path_join(p, sizeof p, dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      remove_dir(p);
    } else {
      unlink(p);
    }
  }
  closedir(d);
  rmdir(dir);
}

/* ---- corrupted bundles -------------------------------------------------------------------- */

static const char *kFiles[] = {"prompt.pte", "text.pte", "smd.pte", "decoder.pte", "manifest.json",
                               "default_prompt.wav"};
static char g_bundle[4096], g_work[4096], g_variant[4096];
static unsigned char *g_manifest;
static size_t g_manifest_size;

/* Re-creates the variant folder from the pristine bundle, then damages it one random way. */
static void make_variant(void) {
  remove_dir(g_variant);
  copy_dir(g_bundle, g_variant);
  char p[4096], q[4096];
  const char *victim = kFiles[below(6)];
  path_join(p, sizeof p, g_variant, victim);
  unsigned char *data = NULL;
  size_t size = 0;
  switch (below(8)) {
    case 0: /* missing file */
      unlink(p);
      break;
    case 1: /* truncated file */
      if (read_file(p, &data, &size)) write_file(p, data, size ? below((uint32_t)size) : 0);
      break;
    case 2: /* flipped bytes (same size) */
      if (read_file(p, &data, &size) && size) {
        for (int k = 0, n = 1 + (int)below(4); k < n; ++k) data[below((uint32_t)size)] ^= (unsigned char)(1 + below(255));
        write_file(p, data, size);
      }
      break;
    case 3: { /* two programs swapped */
      const char *other = kFiles[below(4)];
      path_join(q, sizeof q, g_variant, other);
      char tmp[4096];
      path_join(tmp, sizeof tmp, g_variant, "swap.tmp");
      rename(p, tmp);
      rename(q, p);
      rename(tmp, q);
      break;
    }
    case 4: { /* random bytes instead of the manifest */
      size_t n = below(2000);
      data = malloc(n + 1);
      for (size_t i = 0; i < n; ++i) data[i] = (unsigned char)rnd();
      path_join(p, sizeof p, g_variant, "manifest.json");
      write_file(p, data, n);
      break;
    }
    default: { /* a few random edits of the manifest text (JSON and schema fuzzing) */
      size_t n = g_manifest_size;
      data = malloc(n + 64);
      memcpy(data, g_manifest, n);
      for (int k = 0, m = 1 + (int)below(3); k < m && n > 0; ++k) {
        size_t at = below((uint32_t)n);
        switch (below(4)) {
          case 0: data[at] = (unsigned char)rnd(); break;
          case 1: data[at] = "0123456789{}[]\",:-.eE"[below(21)]; break;
          case 2: memmove(data + at, data + at + 1, n - at - 1); n--; break;
          default: data[at] = (unsigned char)('0' + below(10)); break;
        }
      }
      path_join(p, sizeof p, g_variant, "manifest.json");
      write_file(p, data, n);
      break;
    }
  }
  free(data);
}

/* ---- random arguments -------------------------------------------------------------------- */

/* Struct storage large enough for any struct_size the harness claims. */
typedef union {
  ms_synth_options o;
  ms_start_options s;
  ms_limits l;
  ms_timings t;
  ms_request_limits r;
  unsigned char raw[8192];
} Box;

/* Half of the calls use well-formed arguments (so synthesis runs deep), half are chaotic. */
static int g_sane = 0;

static size_t random_struct_size(size_t real) {
  if (g_sane) return real;
  switch (below(10)) {
    case 0: return 0;
    case 1: return below(16);
    case 2: return real - 8;
    case 3: return real + 8;  /* zero tail: accepted */
    case 4: return 4097;
    case 5: return (size_t)rnd();
    default: return real;
  }
}

static int32_t g_steps[80];
static int g_n_codebooks = 1;
static float *g_pcm;
static size_t g_pcm_cap;

static const ms_start_options *random_start_options(Box *box) {
  if (chance(0.4)) return NULL;
  memset(box, 0, sizeof *box);
  ms_start_options_init(&box->s);
  box->s.struct_size = random_struct_size(sizeof(ms_start_options));
  if (box->s.struct_size == sizeof(ms_start_options) + 8 && chance(0.5)) box->raw[sizeof(ms_start_options) + 3] = 7;
  if (chance(0.3)) {
    box->s.use_seed = 1;
    box->s.seed = rnd();
  }
  if (chance(0.3)) {
    size_t n = below(5);
    if (g_sane) n = (size_t)g_n_codebooks;
    for (size_t i = 0; i < n; ++i) {
      g_steps[i] = g_sane || chance(0.8) ? 1 + (int32_t)below(3) : (int32_t)rnd();
    }
    box->s.steps = !g_sane && chance(0.1) ? NULL : g_steps;
    box->s.n_steps = !g_sane && chance(0.05) ? (size_t)rnd() % 100 : n;
  }
  if (chance(0.3)) {
    float v[] = {0.0f, 0.25f, 1.0f, 4.0f, 4.5f, -1.0f, NAN, INFINITY, 0.1f};
    box->s.length_scale = g_sane ? v[below(4)] : v[below(9)];
  }
  return &box->s;
}

/* Fills g_pcm with one kind of prompt; returns the frames and sets rate/channels. */
static const float *random_prompt(size_t *frames, int32_t *rate, int32_t *channels, int sr) {
  int32_t rates[] = {sr, sr, 8000, 22050, 44100, 48000, 0, -16000, 999, 1000, 768001, 1 << 30};
  int32_t chans[] = {1, 1, 1, 2, 0, -1, 65, 3};
  *rate = rates[below(g_sane ? 6 : 12)];
  *channels = chans[below(g_sane ? 4 : 8)];
  switch (below(8)) {
    case 0: /* default voice */
      *frames = chance(0.9) ? 0 : 1 + below(100);
      return NULL;
    case 1:
      *frames = 0;
      return g_pcm;
    default:
      break;
  }
  int32_t r = *rate > 0 && *rate < 100000 ? *rate : 16000;
  int32_t c = *channels > 0 && *channels <= 8 ? *channels : 1;
  double seconds = chance(0.2) ? (double)below(1000) / 1000.0 : 1.0 + (double)below(1500) / 1000.0;
  int kind = g_sane ? (chance(0.5) ? 5 : 1) : (int)below(6);
  if (g_sane && seconds < 1.0) seconds += 1.0;
  size_t n = (size_t)(seconds * r);
  if (n * (size_t)c > g_pcm_cap) n = g_pcm_cap / (size_t)c;
  for (size_t i = 0; i < n * (size_t)c; ++i) {
    float v;
    switch (kind) {
      case 0: v = 0.0f; break;                                               /* silent */
      case 1: v = (float)((double)(rnd() >> 11) / 9007199254740992.0 - 0.5); break; /* noise */
      case 2: v = (float)(rnd() >> 40) * 1e3f; break;                         /* loud */
      case 3: v = chance(0.001) ? NAN : 0.3f * (float)sin((double)i * 0.05); break;
      case 4: v = chance(0.001) ? INFINITY : 0.2f * (float)sin((double)i * 0.01); break;
      default: v = 0.3f * (float)sin((double)i * 0.07) * (float)sin((double)i * 0.0007); break;
    }
    g_pcm[i] = v;
  }
  *frames = n;
  return g_pcm;
}

/* Large enough for any lengths random_phonemes draws (3 chunks of at most 428 ids). */
static int32_t g_ids[2048];
static size_t g_lengths[8];

static void random_phonemes(const int32_t **ids, const size_t **lengths, size_t *n_chunks,
                            int32_t n_symbols) {
  size_t nc = 1 + below(3);
  size_t total = 0;
  for (size_t i = 0; i < nc; ++i) {
    size_t len = g_sane || chance(0.9) ? 1 + below(10) : (chance(0.5) ? 0 : 129 + below(300));
    g_lengths[i] = len;
    total += len;
  }
  for (size_t i = 0; i < total; ++i) {
    g_ids[i] = g_sane || chance(0.98) ? (int32_t)below((uint32_t)n_symbols) : (int32_t)rnd();
  }
  *ids = !g_sane && chance(0.03) ? NULL : g_ids;
  *lengths = !g_sane && chance(0.03) ? NULL : g_lengths;
  *n_chunks = !g_sane && chance(0.03) ? 0 : nc;
}

static char g_text[5000];
static const char *random_text(void) {
  switch (below(6)) {
    case 0: return NULL;
    case 1: return "";
    case 2: return "Hello there. How are you?";
    case 3: { /* random bytes (often invalid UTF-8) */
      size_t n = below(200);
      for (size_t i = 0; i < n; ++i) g_text[i] = (char)(1 + below(255));
      g_text[n] = 0;
      return g_text;
    }
    case 4: { /* too long */
      size_t n = 2000 + below(2990);
      memset(g_text, 'a', n);
      g_text[n] = 0;
      return g_text;
    }
    default: return "\xe2\x82\xac 12 \xf0\x9f\x98\x80 Dr. Smith";
  }
}

static void check_chunk(const ms_audio_chunk *c, int sr) {
  if (!c->samples || c->n_samples == 0 || c->sample_rate != sr) {
    violation("bad chunk", "empty or wrong rate");
    return;
  }
  for (size_t i = 0; i < c->n_samples; ++i) {
    if (!(c->samples[i] >= -1.0f && c->samples[i] <= 1.0f)) {
      violation("bad chunk", "sample not finite or outside [-1, 1]");
      return;
    }
  }
  g_chunks++;
}

/* ---- main --------------------------------------------------------------------------------- */

#define MAX_HANDLES 3

int main(int argc, char **argv) {
  long long calls = 10000;
  unsigned long long seed = 1;
  const char *bundle = NULL;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--bundle") && i + 1 < argc) bundle = argv[++i];
    else if (!strcmp(argv[i], "--calls") && i + 1 < argc) calls = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: %s --bundle DIR [--calls N] [--seed S]\n", argv[0]);
      return 2;
    }
  }
  if (!bundle) {
    fprintf(stderr, "--bundle is required\n");
    return 2;
  }
  g_rng ^= seed * 0x9E3779B97F4A7C15ULL;
  rnd();
  snprintf(g_bundle, sizeof g_bundle, "%s", bundle);
  char p[4096];
  path_join(p, sizeof p, g_bundle, "manifest.json");
  if (!read_file(p, &g_manifest, &g_manifest_size)) {
    fprintf(stderr, "cannot read %s\n", p);
    return 2;
  }
  const char *tmp = getenv("TMPDIR");
  snprintf(g_work, sizeof g_work, "%s/ms_fuzz_XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(g_work)) {
    perror("mkdtemp");
    return 2;
  }
  path_join(g_variant, sizeof g_variant, g_work, "bundle");
  g_pcm_cap = 48000 * 4;
  g_pcm = malloc(g_pcm_cap * sizeof(float));

  /* One good handle to begin with; more are created and destroyed at random. */
  ms_synth *h[MAX_HANDLES] = {NULL};
  ms_synth_options o;
  ms_synth_options_init(&o);
  o.bundle_dir = g_bundle;
  o.num_threads = 2;
  ms_status st;
  h[0] = ms_synth_create(&o, &st);
  count(st);
  if (!h[0]) {
    fprintf(stderr, "cannot create a handle on the pristine bundle: %s\n", ms_last_error(NULL));
    return 2;
  }
  g_creates_ok++;
  ms_limits lim;
  memset(&lim, 0, sizeof lim);
  lim.struct_size = sizeof lim;
  ms_synth_limits(h[0], &lim);
  const int sr = lim.sample_rate;
  g_n_codebooks = lim.n_codebooks;
  int running[MAX_HANDLES] = {0};
  time_t t0 = time(NULL);

  while (g_calls < calls) {
    g_sane = chance(0.5);
    int slot = (int)below(MAX_HANDLES);
    if (g_sane && !h[slot]) slot = 0;
    ms_synth *s = !g_sane && chance(0.03) ? NULL : h[slot];
    Box box;
    uint32_t op = below(100);
    if (op < 4) { /* create: pristine (rare), corrupted, or bad options */
      memset(&box, 0, sizeof box);
      ms_synth_options_init(&box.o);
      int kind = (int)below(10);
      if (kind == 0 && h[slot] == NULL && chance(0.3)) {
        box.o.bundle_dir = g_bundle;
        box.o.num_threads = chance(0.5) ? 2 : 0;
        box.o.verify_checksums = (int32_t)below(2);
      } else if (kind <= 5) {
        make_variant();
        box.o.bundle_dir = g_variant;
      } else {
        const char *dirs[] = {NULL, "", "/nonexistent", g_work, "/dev/null", g_bundle};
        box.o.bundle_dir = dirs[below(6)];
        box.o.struct_size = random_struct_size(sizeof(ms_synth_options));
        if (box.o.struct_size == sizeof(ms_synth_options) + 8 && chance(0.5)) box.raw[sizeof(ms_synth_options) + 1] = 1;
        if (chance(0.3)) box.o.num_threads = (int32_t)rnd();
        if (chance(0.3)) box.o.length_scale = chance(0.5) ? NAN : -1.0f;
        if (chance(0.3)) {
          box.o.steps = chance(0.5) ? NULL : g_steps;
          box.o.n_steps = below(70);
          for (int i = 0; i < 70; ++i) g_steps[i] = (int32_t)below(70) - 2;
        }
        if (box.o.bundle_dir == g_bundle && box.o.struct_size == sizeof(ms_synth_options) &&
            h[slot] != NULL) {
          box.o.bundle_dir = "/nonexistent";  /* keep at most MAX_HANDLES alive */
        }
      }
      ms_status cst = MS_OK;
      ms_synth *n = ms_synth_create(chance(0.05) ? NULL : &box.o, chance(0.1) ? NULL : &cst);
      count(n ? MS_OK : (cst == MS_OK ? MS_ERR_INVALID_ARGUMENT : cst));
      if (n) {
        g_creates_ok++;
        if (h[slot]) {
          ms_synth_destroy(h[slot]);
          g_calls++;
        }
        h[slot] = n;
        running[slot] = 0;
      } else {
        g_creates_failed++;
        if (!ms_last_error(NULL)[0]) violation("create failed without a message", "");
      }
    } else if (op < 22) { /* start from phonemes */
      const int32_t *ids;
      const size_t *lengths;
      size_t nc;
      random_phonemes(&ids, &lengths, &nc, lim.n_symbols);
      size_t frames;
      int32_t rate, ch;
      const float *pcm = random_prompt(&frames, &rate, &ch, sr);
      st = ms_synth_start_phonemes(s, ids, lengths, nc, pcm, frames, rate, ch, random_start_options(&box));
      count(st);
      if (s) running[slot] = st == MS_OK;
    } else if (op < 30) { /* start from text (MS_ERR_MODEL when the build or bundle has no frontend) */
      size_t frames;
      int32_t rate, ch;
      const float *pcm = random_prompt(&frames, &rate, &ch, sr);
      st = ms_synth_start(s, random_text(), pcm, frames, rate, ch, random_start_options(&box));
      count(st);
      if (s) running[slot] = st == MS_OK;
    } else if (op < 70) { /* next */
      ms_audio_chunk c;
      st = ms_synth_next(s, chance(0.03) ? NULL : &c);
      count(st);
      if (st == MS_OK) check_chunk(&c, sr);
      if (st == MS_DONE && s && running[slot]) g_utterances++;
      if (st != MS_OK && s) running[slot] = 0;
      if (s && !running[slot] && st != MS_DONE && st != MS_ERR_STATE && st != MS_ERR_INVALID_ARGUMENT &&
          st != MS_OK && !ms_last_error(s)[0]) {
        violation("error without a message", ms_status_string(st));
      }
    } else if (op < 76) { /* cancel, then maybe next */
      st = ms_synth_cancel(s);
      count(st);
      if (s && running[slot]) {
        ms_audio_chunk c;
        st = ms_synth_next(s, &c);
        count(st);
        if (st != MS_ERR_CANCELLED) violation("next after cancel", ms_status_string(st));
        running[slot] = 0;
      }
    } else if (op < 80) { /* speak (whole utterance) */
      const int32_t *ids;
      const size_t *lengths;
      size_t nc;
      random_phonemes(&ids, &lengths, &nc, lim.n_symbols);
      size_t frames;
      int32_t rate, ch;
      const float *pcm = random_prompt(&frames, &rate, &ch, sr);
      float *out = (float *)0x1;
      size_t n_out = 12345;
      int use_text = chance(0.3);
      if (use_text) {
        st = ms_synth_speak(s, random_text(), pcm, frames, rate, ch, random_start_options(&box),
                            chance(0.05) ? NULL : &out, &n_out);
      } else {
        st = ms_synth_speak_phonemes(s, ids, lengths, nc, pcm, frames, rate, ch,
                                     random_start_options(&box), chance(0.05) ? NULL : &out,
                                     chance(0.05) ? NULL : &n_out);
      }
      count(st);
      if (st == MS_OK) {
        for (size_t i = 0; i < n_out; ++i) {
          if (!(out[i] >= -1.0f && out[i] <= 1.0f)) {
            violation("speak output", "sample not finite or outside [-1, 1]");
            break;
          }
        }
        ms_free_audio(out);
        g_utterances++;
      } else if (out != NULL && out != (float *)0x1) {
        violation("speak failed but returned audio", ms_status_string(st));
      }
      if (s) running[slot] = 0;
    } else if (op < 86) { /* queries, the text frontend alone, request limits */
      memset(&box, 0, sizeof box);
      switch (below(9)) {
        case 0:
          box.l.struct_size = random_struct_size(sizeof(ms_limits));
          st = ms_synth_limits(s, chance(0.05) ? NULL : &box.l);
          break;
        case 1:
          box.t.struct_size = random_struct_size(sizeof(ms_timings));
          st = ms_synth_timings(s, chance(0.05) ? NULL : &box.t);
          break;
        case 2: {
          const char *sym = ms_synth_symbol(s, chance(0.5) ? (int32_t)below(100) : (int32_t)rnd());
          st = MS_OK;
          if (sym && !sym[0]) violation("empty symbol", "");
          break;
        }
        case 3:
          st = ms_synth_sample_rate(s) == (s ? sr : 0) ? MS_OK : MS_ERR_INTERNAL;
          break;
        case 4:
          st = ms_status_string((ms_status)(int)below(40) - 5) ? MS_OK : MS_ERR_INTERNAL;
          break;
        case 5: { /* text -> phoneme ids: random text, NULL outputs, the handle left alone */
          int32_t *ids = (int32_t *)0x1;
          size_t n_ids = 3, *lens = (size_t *)0x1, n_lens = 3;
          uint32_t fl = 5;
          st = ms_synth_text_to_phonemes(s, random_text(), chance(0.05) ? NULL : &ids,
                                         chance(0.05) ? NULL : &n_ids,
                                         chance(0.05) ? NULL : &lens,
                                         chance(0.05) ? NULL : &n_lens, chance(0.3) ? NULL : &fl);
          if (st == MS_OK) {
            size_t sum = 0;
            for (size_t i = 0; i < n_lens; ++i) sum += lens[i];
            if (sum != n_ids || n_lens == 0) violation("text_to_phonemes", "lengths do not add up");
            for (size_t i = 0; i < n_ids; ++i) {
              if (ids[i] < 0 || ids[i] >= lim.n_symbols) {
                violation("text_to_phonemes", "id out of range");
                break;
              }
            }
            ms_free_phonemes(ids, lens);
          } else if ((ids != NULL && ids != (int32_t *)0x1) || (lens != NULL && lens != (size_t *)0x1)) {
            violation("text_to_phonemes failed but returned arrays", ms_status_string(st));
          }
          break;
        }
        case 6: { /* normalizer: pristine, damaged or missing bundles; random text */
          const char *dirs[] = {g_bundle, g_bundle, g_variant, NULL, "", "/nonexistent", g_work};
          char *words = (char *)0x1;
          st = ms_normalize_text(dirs[below(7)], random_text(), chance(0.05) ? NULL : &words);
          if (st == MS_OK) {
            if (!words) violation("normalize_text", "MS_OK without a string");
            ms_free_string(words);
          } else if (words != NULL && words != (char *)0x1) {
            violation("normalize_text failed but returned a string", ms_status_string(st));
          } else if (!ms_last_error(NULL)[0]) {
            violation("normalize_text failed without a message", ms_status_string(st));
          }
          break;
        }
        case 7:
          box.r.struct_size = random_struct_size(sizeof(ms_request_limits));
          st = ms_get_request_limits(chance(0.05) ? NULL : &box.r);
          if (st == MS_OK && box.r.struct_size >= sizeof box.r && box.r.max_steps_per_layer < 1) {
            violation("request limits", "max_steps_per_layer < 1");
          }
          break;
        default:
          st = ms_last_error(s) ? MS_OK : MS_ERR_INTERNAL;
          break;
      }
      count(st);
    } else if (op < 88) { /* destroy (and NULL destroy) */
      if (chance(0.5)) {
        ms_synth_destroy(NULL);
      } else if (h[slot] && slot != 0) {
        ms_synth_destroy(h[slot]);
        h[slot] = NULL;
        running[slot] = 0;
      }
      g_calls++;
    } else if (op < 92) { /* options init */
      st = chance(0.1) ? ms_synth_options_init(NULL) : ms_start_options_init(&box.s);
      count(st);
    } else { /* drain a running synthesis to completion now and then */
      if (h[slot] && running[slot]) {
        ms_audio_chunk c;
        while ((st = ms_synth_next(h[slot], &c)) == MS_OK) {
          count(st);
          check_chunk(&c, sr);
        }
        count(st);
        if (st == MS_DONE) g_utterances++;
        running[slot] = 0;
      } else {
        count(ms_synth_cancel(h[slot]));
      }
    }
  }
  for (int i = 0; i < MAX_HANDLES; ++i) ms_synth_destroy(h[i]);
  remove_dir(g_work);
  free(g_manifest);
  free(g_pcm);
  printf("{\"calls\": %lld, \"violations\": %lld, \"seconds\": %lld, \"creates_ok\": %lld, "
         "\"creates_failed\": %lld, \"chunks\": %lld, \"utterances\": %lld, \"status\": {",
         g_calls, g_violations, (long long)(time(NULL) - t0), g_creates_ok, g_creates_failed,
         g_chunks, g_utterances);
  for (int i = 0; i <= MS_ERR_NO_MEMORY; ++i) {
    printf("%s\"%s\": %lld", i ? ", " : "", ms_status_string((ms_status)i), g_status[i]);
  }
  printf("}}\n");
  return g_violations ? 1 : 0;
}
