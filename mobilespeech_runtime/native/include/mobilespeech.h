/*
 * mobilespeech.h - C ABI of MobileSpeech, on-device zero-shot text-to-speech.
 *
 * One C11 header; the implementation is C++17 over ExecuTorch. Bindings: ctypes
 * (mobilespeech_runtime/native_binding.py), JNI (Kotlin), a Swift module map.
 *
 * Typical use (error handling shortened):
 *
 *     ms_synth_options o;
 *     ms_synth_options_init(&o);
 *     o.bundle_dir = "models/demo";
 *     o.num_threads = 2;
 *     ms_status st;
 *     ms_synth *s = ms_synth_create(&o, &st);
 *     if (!s) { fprintf(stderr, "%s\n", ms_last_error(NULL)); return 1; }
 *     st = ms_synth_start(s, "Hello there.", pcm, n_frames, 44100, 2, NULL);
 *     ms_audio_chunk c;
 *     while ((st = ms_synth_next(s, &c)) == MS_OK) play(c.samples, c.n_samples);
 *     if (st != MS_DONE) fprintf(stderr, "%s\n", ms_last_error(s));
 *     ms_synth_destroy(s);
 *
 * OWNERSHIP
 *   - A handle from ms_synth_create is owned by the caller and freed by ms_synth_destroy
 *     (NULL is accepted). Nothing the library allocates is freed by the caller except through
 *     the library: audio from ms_synth_speak*() is freed with ms_free_audio(), the arrays of
 *     ms_synth_text_to_phonemes() with ms_free_phonemes(), the string of ms_normalize_text()
 *     with ms_free_string().
 *   - Every pointer the caller passes in (paths, text, PCM, phoneme ids, step arrays, options
 *     structs) is only read during the call and may be freed as soon as the call returns.
 *   - Borrowed results: the samples of an ms_audio_chunk stay valid until the next call on the
 *     same handle (any function taking that handle, except ms_synth_cancel and the const
 *     queries) or its destruction. The string from ms_last_error(synth) follows the same
 *     rule; ms_last_error(NULL) is valid until the next failing call on the calling thread;
 *     ms_synth_symbol() strings live as long as the handle. ms_version() and
 *     ms_status_string() return static strings.
 *
 * THREADS
 *   - One handle per thread: a handle takes one call at a time. A call made while another
 *     thread is in a call on the same handle returns MS_ERR_BUSY at once (message in
 *     ms_last_error(NULL)) and changes nothing. Different handles may be used concurrently.
 *   - Exception: ms_synth_cancel(synth) may be called from any thread while the handle is alive
 *     (it sets an atomic flag that the synthesizing thread checks between program calls).
 *   - ExecuTorch has ONE thread pool per process. ms_synth_options.num_threads resizes it when
 *     no other handle is alive; while handles exist, a new handle with a different count uses
 *     the existing pool (see ms_limits.num_threads for the count in effect).
 *
 * HANDLES
 *   - Every entry point checks that its handle is live (created and not yet destroyed) before
 *     reading it: a destroyed handle gets MS_ERR_INVALID_ARGUMENT (message in
 *     ms_last_error(NULL)), ms_synth_destroy of one does nothing, ms_synth_sample_rate gives 0
 *     and ms_synth_symbol NULL. Limit: once a later ms_synth_create reuses the freed address,
 *     the stale pointer names the new handle; do not keep pointers to destroyed handles.
 *
 * ERRORS
 *   - Functions return an ms_status; 0 (MS_OK) is success. No C++ exception crosses this ABI and
 *     bad input never aborts the process. ms_last_error(synth) gives a readable message for the
 *     last failure on that handle; ms_last_error(NULL) the last failure of a call that had no
 *     valid handle (ms_synth_create, or a call made with a NULL handle) on the calling thread.
 *
 * LOGGING
 *   - ExecuTorch's own log lines (stderr by default) are filtered by level, read once from the
 *     environment variable MOBILESPEECH_LOG when the first handle is created: none | error (the
 *     default) | info | debug. The messages kept go to the ExecuTorch PAL logger that was active
 *     before, so an app that registered its own logger (executorch::runtime::register_pal)
 *     first keeps receiving them. This library prints nothing itself.
 *
 * STRUCT VERSIONING
 *   - Input structs start with `struct_size` and are filled by their *_init function, so fields
 *     can be appended without breaking old callers. A struct_size smaller than the first
 *     released layout, or larger than this library knows with non-zero unknown bytes (or larger
 *     than 4096), is MS_ERR_INVALID_ARGUMENT. Output structs with struct_size (ms_limits,
 *     ms_timings) are filled up to the struct_size the caller sets. ms_audio_chunk never changes.
 */
#ifndef MOBILESPEECH_H
#define MOBILESPEECH_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MS_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define MS_API __attribute__((visibility("default")))
#else
#define MS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MS_VERSION_MAJOR 0
#define MS_VERSION_MINOR 1
#define MS_VERSION_PATCH 0

/* Status codes. Values are fixed forever; new codes are only appended. */
typedef enum ms_status {
  MS_OK = 0,                   /* success; ms_synth_next: *out holds a chunk */
  MS_DONE = 1,                 /* ms_synth_next: the utterance is complete (no chunk) */
  MS_ERR_INVALID_ARGUMENT = 2, /* NULL pointer, bad length, wrong struct_size, value out of range */
  MS_ERR_MODEL = 3,            /* bundle missing, corrupt, tampered, mismatched; program failed */
  MS_ERR_INVALID_TEXT = 4,     /* empty / too long / unpronounceable text; bad phoneme ids */
  MS_ERR_INVALID_AUDIO = 5,    /* prompt empty, silent, too short, non-finite, bad sample rate */
  MS_ERR_CANCELLED = 6,        /* ms_synth_cancel stopped the synthesis */
  MS_ERR_STATE = 7,            /* ms_synth_next without a synthesis in progress */
  MS_ERR_INTERNAL = 8,         /* a bug: please report it with ms_last_error() */
  MS_ERR_NO_MEMORY = 9,        /* an allocation failed (also ExecuTorch's memory allocation) */
  MS_ERR_BUSY = 10             /* another thread is in a call on this handle (see THREADS);
                                  the message is in ms_last_error(NULL) */
} ms_status;

/* Opaque synthesizer: one loaded bundle plus the state of one synthesis. */
typedef struct ms_synth ms_synth;

/* Per-model configuration (ms_synth_create). Fill with ms_synth_options_init. */
typedef struct ms_synth_options {
  size_t struct_size;     /* sizeof(ms_synth_options), set by ms_synth_options_init */
  const char *bundle_dir; /* required: UTF-8 path of a bundle folder (manifest.json + .pte) */
  int32_t num_threads;    /* ExecuTorch CPU threads; 0 = leave the process's pool as it is */
  int32_t use_seed;       /* nonzero: `seed` replaces the bundle's default seed */
  uint64_t seed;          /* noise seed of sentence i is seed + i (mod 2^64) */
  const int32_t *steps;   /* NULL: the bundle's schedule; else n_steps == n_codebooks values */
  size_t n_steps;         /*   each in 1..64: unmasking steps per codec layer, coarse to fine */
  float length_scale;     /* speaking-rate factor in [0.25, 4]; >1 slower. Default 1 */
  int32_t verify_checksums; /* nonzero (default): sha256 of every bundle file at create; sizes
                               are always checked */
} ms_synth_options;

/* Per-call options (ms_synth_start*, ms_synth_speak*). NULL means all defaults. */
typedef struct ms_start_options {
  size_t struct_size;   /* sizeof(ms_start_options), set by ms_start_options_init */
  int32_t use_seed;     /* nonzero: `seed` for this call, else the handle's seed */
  uint64_t seed;
  const int32_t *steps; /* NULL: the handle's steps; else n_steps == n_codebooks values 1..64 */
  size_t n_steps;
  float length_scale;   /* 0: the handle's length_scale; else in [0.25, 4] */
} ms_start_options;

/* Flags of an ms_audio_chunk. */
#define MS_CHUNK_END_OF_SENTENCE 1u /* last chunk of a text chunk (sentence or piece) */
#define MS_CHUNK_PROMPT_TRIMMED 2u  /* the prompt was longer than max_prompt_seconds: cut */
#define MS_CHUNK_SPED_UP 4u         /* this sentence's durations exceeded max_frames: compressed */
#define MS_CHUNK_PROMPT_ONE_CHANNEL 8u /* the prompt's channels cancelled when mixed (opposite
                                          phase): its loudest channel alone was used */
#define MS_CHUNK_TEXT_SKIPPED 16u   /* markup tags were removed, or words in scripts other than
                                       Latin were skipped (the text frontend cannot read them) */

/* One piece of streamed audio. Filled by ms_synth_next; this layout never changes. */
typedef struct ms_audio_chunk {
  const float *samples; /* mono float32 in [-1, 1] at sample_rate; borrowed (see OWNERSHIP) */
  size_t n_samples;
  int32_t sample_rate;
  int32_t sentence;     /* index of the text chunk this audio belongs to (0-based) */
  uint32_t flags;       /* MS_CHUNK_* bits */
  uint32_t reserved;    /* 0 */
} ms_audio_chunk;

/* What a bundle accepts (ms_synth_limits). Set struct_size = sizeof(ms_limits) before the call. */
typedef struct ms_limits {
  size_t struct_size;
  int32_t sample_rate;         /* output (and codec) rate, Hz */
  int32_t n_codebooks;         /* length of a steps array */
  int32_t max_steps_per_layer; /* 64 */
  int32_t max_chars;           /* characters of text per request */
  int32_t max_phonemes;        /* phoneme ids per chunk (ms_synth_start_phonemes) */
  int32_t max_frames;          /* codec frames per chunk (longer predictions are compressed) */
  int32_t max_prompt_frames;   /* codec frames of prompt the encoder reads */
  int32_t n_symbols;           /* phoneme ids are 0 .. n_symbols-1 (see ms_synth_symbol) */
  float frame_rate;            /* codec frames per second */
  float min_prompt_seconds;    /* shorter prompts are rejected */
  float max_prompt_seconds;    /* longer prompts are trimmed */
  int32_t has_text_frontend;   /* 0: ms_synth_start(text) is unavailable; use *_phonemes */
  int32_t num_threads;         /* threads of the ExecuTorch pool in effect */
  /* appended fields (filled when struct_size covers them) */
  int32_t hop_length;          /* waveform samples per codec frame (token) */
  int32_t codebook_size;       /* entries per codebook */
  float bits_per_second;       /* codec bitrate: n_codebooks * log2(codebook_size) * frame_rate */
  float max_resynth_seconds;   /* longest input ms_synth_start_resynth accepts */
} ms_limits;

/* Seconds per stage of the last synthesis (ms_synth_timings); set struct_size first. */
typedef struct ms_timings {
  size_t struct_size;
  double frontend_s;    /* text -> phoneme ids */
  double prompt_s;      /* prompt conditioning + encoder programs (0 when cached) */
  double text_s;        /* text/duration program, summed over chunks */
  double smd_s;         /* SMD step program calls */
  double decoder_s;     /* decoder program calls (the mel codec: tokens -> mel; see vocoder_s) */
  double first_audio_s; /* from ms_synth_start to the end of the first ms_synth_next with audio;
                           negative while no audio has been produced */
  double audio_s;       /* seconds of audio produced so far */
  int64_t smd_calls;
  int64_t frames;
  /* since 0.6 (callers with an older, shorter struct_size do not get these): */
  double vocoder_s;     /* the mel codec's vocoder program calls (mel -> audio) */
} ms_timings;

/* ---- library ---------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH (executorch X)"; static. */
MS_API const char *ms_version(void);
/* Name of a status ("MS_ERR_MODEL", ...); static; "MS_UNKNOWN_STATUS" for other values. */
MS_API const char *ms_status_string(ms_status status);

/* Zero *opts and set the defaults: struct_size, num_threads 0, length_scale 1, verify_checksums 1. */
MS_API ms_status ms_synth_options_init(ms_synth_options *opts);
MS_API ms_status ms_start_options_init(ms_start_options *opts);

/* ---- handle ------------------------------------------------------------------------------ */

/* Load and validate a bundle: manifest schema, size + sha256 of every file, program methods,
 * input bounds and baked-in constants. Returns NULL on failure with *err set (err may be NULL)
 * and the message in ms_last_error(NULL). Takes ~0.1-1 s (programs are prepared here). */
MS_API ms_synth *ms_synth_create(const ms_synth_options *opts, ms_status *err);
MS_API void ms_synth_destroy(ms_synth *synth);

/* Message of the last failure on `synth` (see ERRORS); "" when there was none. Never NULL. */
MS_API const char *ms_last_error(const ms_synth *synth);

/* ---- synthesis: pull iterator ------------------------------------------------------------ */

/* Begin speaking UTF-8 `text` in the voice of a prompt. The prompt is interleaved float PCM:
 * n_frames frames of `channels` samples (1..64) at sample_rate (1000..768000 Hz), any level;
 * it is mixed to mono, resampled to the bundle's rate, and must last at least
 * min_prompt_seconds (longer than max_prompt_seconds: trimmed; over 300 s or 2^24 frames:
 * rejected).
 * prompt_pcm == NULL with n_frames == 0 uses the bundle's default voice. `opts` may be NULL.
 * Text, prompt and options are validated here; any synthesis in progress is abandoned.
 * Then call ms_synth_next until MS_DONE. */
MS_API ms_status ms_synth_start(ms_synth *synth, const char *text, const float *prompt_pcm,
                                size_t n_frames, int32_t sample_rate, int32_t channels,
                                const ms_start_options *opts);

/* Same, from phoneme ids instead of text (apps with their own G2P; tests). `ids` holds
 * n_chunks chunks back to back; chunk i has chunk_lengths[i] ids (1..max_phonemes), each in
 * 0..n_symbols-1. Each chunk is synthesized like one sentence (seed + i). */
MS_API ms_status ms_synth_start_phonemes(ms_synth *synth, const int32_t *ids,
                                         const size_t *chunk_lengths, size_t n_chunks,
                                         const float *prompt_pcm, size_t n_frames,
                                         int32_t sample_rate, int32_t channels,
                                         const ms_start_options *opts);

/* Produce the next chunk of audio (one decoder window, about decode_chunk_frames frames).
 * MS_OK: *out is filled (borrowed). MS_DONE: finished, *out is zeroed; further calls return
 * MS_DONE until the next start. MS_ERR_STATE: no synthesis was started (or the last one failed
 * or was cancelled). Any error ends the synthesis. */
MS_API ms_status ms_synth_next(ms_synth *synth, ms_audio_chunk *out);

/* Ask the synthesis in progress to stop: the running ms_synth_next (or start) returns
 * MS_ERR_CANCELLED at its next check (between program calls). Safe from any thread while the
 * handle is alive. A cancel made when nothing is running is cleared by the next start. */
MS_API ms_status ms_synth_cancel(ms_synth *synth);

/* Resynthesis: audio through the bundle's codec alone (prompt.pte "encode" -> tokens -> the same
 * decoder windows as synthesis), so a user hears what the codec keeps. The PCM is interleaved
 * float, n_frames frames of `channels` (1..64) at sample_rate (1000..768000 Hz), at most
 * ms_limits.max_resynth_seconds; it is mixed to mono, resampled to the bundle's rate (peak-
 * normalized if it clips). Input longer than the encoder window (max_prompt_frames frames) is
 * encoded window by window and the tokens joined. Then ms_synth_next until MS_DONE; the last
 * chunk may carry up to hop_length - 1 samples of padding (ms_synth_resynthesize trims them). */
MS_API ms_status ms_synth_start_resynth(ms_synth *synth, const float *pcm, size_t n_frames,
                                        int32_t sample_rate, int32_t channels);

/* ---- synthesis: whole utterance ---------------------------------------------------------- */

/* start + next until done, concatenated. On MS_OK, *out (free it with ms_free_audio) holds
 * *n_out samples at ms_synth_sample_rate(); on error *out is NULL and *n_out 0. */
MS_API ms_status ms_synth_speak(ms_synth *synth, const char *text, const float *prompt_pcm,
                                size_t n_frames, int32_t sample_rate, int32_t channels,
                                const ms_start_options *opts, float **out, size_t *n_out);
MS_API ms_status ms_synth_speak_phonemes(ms_synth *synth, const int32_t *ids,
                                         const size_t *chunk_lengths, size_t n_chunks,
                                         const float *prompt_pcm, size_t n_frames,
                                         int32_t sample_rate, int32_t channels,
                                         const ms_start_options *opts, float **out,
                                         size_t *n_out);
/* start_resynth + next until done, trimmed to the input's duration: *n_out samples at
 * ms_synth_sample_rate(), freed with ms_free_audio. */
MS_API ms_status ms_synth_resynthesize(ms_synth *synth, const float *pcm, size_t n_frames,
                                       int32_t sample_rate, int32_t channels, float **out,
                                       size_t *n_out);
/* Free audio returned by ms_synth_speak* / ms_synth_resynthesize; NULL is accepted. */
MS_API void ms_free_audio(float *samples);

/* ---- queries ----------------------------------------------------------------------------- */

/* Output sample rate in Hz; 0 for NULL. */
MS_API int32_t ms_synth_sample_rate(const ms_synth *synth);
/* Fill *out (out->struct_size must be set) with the bundle's limits. */
MS_API ms_status ms_synth_limits(const ms_synth *synth, ms_limits *out);
/* Fill *out (out->struct_size must be set) with the timings of the last synthesis. */
MS_API ms_status ms_synth_timings(const ms_synth *synth, ms_timings *out);
/* Phoneme symbol of an id ("AH0", "<sil>", ...); NULL when out of range. Valid while the
 * handle lives. */
MS_API const char *ms_synth_symbol(const ms_synth *synth, int32_t id);

/* ---- request limits (no handle) ---------------------------------------------------------- */

/* The bounds every request is checked against, the same for every bundle (a bundle's own are
 * in ms_limits). They live in one table inside the library (src/request_limits.h); bindings
 * read them here instead of copying the numbers. Set struct_size = sizeof(ms_request_limits)
 * before the call; the struct is filled up to struct_size. */
typedef struct ms_request_limits {
  size_t struct_size;
  int32_t max_steps_per_layer;     /* 64: values of a steps array are 1..this */
  float min_length_scale;          /* 0.25: length_scale is in [min, max] */
  float max_length_scale;          /* 4 */
  int32_t max_threads;             /* 256: num_threads is 0..this */
  int32_t max_channels;            /* 64: PCM (prompt, resynthesis) has 1..this channels */
  int32_t min_sample_rate;         /* 1000 Hz: PCM rates are min..max (and a bundle's own) */
  int32_t max_sample_rate;         /* 768000 Hz */
  float max_input_seconds;         /* 300: a longer prompt is refused, not trimmed */
  int64_t max_input_frames;        /* 2^24: the same bound in frames */
  float phonemes_per_char;         /* 1.5: text reads as at most max_chars * this phoneme ids */
  int32_t max_codebooks;           /* 64: a steps array has 1..this values (n_steps) */
  float max_resynth_seconds;       /* 600: ms_synth_start_resynth input */
  int32_t max_utf8_bytes_per_char; /* 4: text over max_chars * this bytes is refused unread */
  int64_t max_resynth_frames;      /* 2^25: the same bound in frames */
  int64_t max_pipe_bytes;          /* 2^26: a pipe input (FIFO, /dev/fd/N) is read up to this */
  int64_t max_audio_file_bytes;    /* 2^30: a larger audio file is refused before reading */
} ms_request_limits;

/* Fill *out (out->struct_size must be set). No handle is needed; an error's message is in
 * ms_last_error(NULL). */
MS_API ms_status ms_get_request_limits(ms_request_limits *out);

/* ---- the text frontend alone ------------------------------------------------------------- */

/* Text -> the phoneme ids ms_synth_start would synthesize (tests, training, evaluation, apps
 * that show or edit the reading), with the same checks and errors as ms_synth_start's text
 * (NULL text, length, UTF-8, nothing to pronounce, a bundle without a frontend) and the same
 * chunking: on MS_OK, *ids holds *n_ids ids, *n_chunks chunks back to back, chunk i has
 * (*chunk_lengths)[i] of them; ms_synth_start_phonemes(synth, *ids, *chunk_lengths, *n_chunks,
 * ...) speaks exactly what ms_synth_start(synth, text, ...) does. *flags (may be NULL) gets
 * MS_CHUNK_TEXT_SKIPPED when markup or non-Latin words were skipped. Both arrays are allocated
 * by the library: free them with ms_free_phonemes. On error the outputs are NULL / 0. A
 * synthesis in progress is left as it is (its borrowed chunk, as after any call, is not). */
MS_API ms_status ms_synth_text_to_phonemes(ms_synth *synth, const char *text, int32_t **ids,
                                           size_t *n_ids, size_t **chunk_lengths,
                                           size_t *n_chunks, uint32_t *flags);
/* Free the arrays of ms_synth_text_to_phonemes; NULL is accepted for either. */
MS_API void ms_free_phonemes(int32_t *ids, size_t *chunk_lengths);

/* The words the voice will say for UTF-8 `text`: the normalizer alone (numbers, dates,
 * abbreviations, currencies ... written out; markup removed): lower-case words with their
 * punctuation, sentences joined by a space. No handle: it reads only
 * the bundle's normalizer assets (manifest.json "frontend": the fold table and the lexicon,
 * whose words decide what is read as a word and what is spelled), not its programs; a few ms
 * a call. Text is checked as ms_synth_start checks it (the bundle's max_chars, UTF-8); text
 * with nothing to say gives "". On MS_OK *out is a NUL-terminated string allocated by the
 * library: free it with ms_free_string; on error *out is NULL and the message is in
 * ms_last_error(NULL). */
MS_API ms_status ms_normalize_text(const char *bundle_dir, const char *text, char **out);
/* Free a string returned by ms_normalize_text; NULL is accepted. */
MS_API void ms_free_string(char *s);

#ifdef __cplusplus
}
#endif

#endif /* MOBILESPEECH_H */
