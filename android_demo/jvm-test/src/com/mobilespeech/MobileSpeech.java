// Java twin of app/src/main/java/com/mobilespeech/MobileSpeech.kt for desktop JVMs without a
// Kotlin compiler: the same class, nested types, method names, getters and semantics, over the
// same JNI bridge (app/src/main/cpp/mobilespeech_jni.cc). tests/test_jni_bridge.py drives this
// class and, where kotlinc is installed, the Kotlin original with the same harness; keep the two
// in step (the test compares their public signatures).
package com.mobilespeech;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One loaded bundle (an ms_synth handle). Create it off the UI thread, use it from one thread at a
 * time; cancel() and close() may be called from any thread. Always close it (no finalizer).
 */
public final class MobileSpeech implements AutoCloseable {
  public static final int CHUNK_END_OF_SENTENCE = 1;
  public static final int CHUNK_PROMPT_TRIMMED = 2;
  public static final int CHUNK_SPED_UP = 4;

  /** Per-model settings (ms_synth_options). */
  public static final class Config {
    private String bundleDir;
    private int numThreads = 0;
    private Long seed = null;
    private int[] steps = null;
    private float lengthScale = 1.0f;
    private boolean verifyChecksums = true;

    public Config(String bundleDir) { this.bundleDir = Objects.requireNonNull(bundleDir, "bundleDir"); }

    public String getBundleDir() { return bundleDir; }
    public void setBundleDir(String v) { bundleDir = Objects.requireNonNull(v, "bundleDir"); }
    /** ExecuTorch CPU threads; 0 leaves the process's pool as it is. */
    public int getNumThreads() { return numThreads; }
    public void setNumThreads(int v) { numThreads = v; }
    /** Noise seed (sentence i uses seed + i); null: the bundle's default seed. */
    public Long getSeed() { return seed; }
    public void setSeed(Long v) { seed = v; }
    /** Unmasking steps per codec layer; null: the bundle's schedule. */
    public int[] getSteps() { return steps; }
    public void setSteps(int[] v) { steps = v; }
    /** Speaking-rate factor in [0.25, 4]; > 1 is slower. */
    public float getLengthScale() { return lengthScale; }
    public void setLengthScale(float v) { lengthScale = v; }
    /** sha256 of every bundle file at load (sizes are always checked). */
    public boolean getVerifyChecksums() { return verifyChecksums; }
    public void setVerifyChecksums(boolean v) { verifyChecksums = v; }
  }

  /** A prompt voice: interleaved float PCM (any level), channels per frame, at sampleRate. */
  public static final class Prompt {
    private final float[] samples;
    private final int sampleRate;
    private final int channels;

    public Prompt(float[] samples, int sampleRate) { this(samples, sampleRate, 1); }

    public Prompt(float[] samples, int sampleRate, int channels) {
      this.samples = Objects.requireNonNull(samples, "samples");
      this.sampleRate = sampleRate;
      this.channels = channels;
    }

    public float[] getSamples() { return samples; }
    public int getSampleRate() { return sampleRate; }
    public int getChannels() { return channels; }
    public double getDurationSeconds() {
      return sampleRate > 0 && channels > 0 ? (double) samples.length / channels / sampleRate : 0.0;
    }
  }

  /** Where a chunk of streamed audio belongs; index counts chunks from 0 within one call. */
  public static final class ChunkInfo {
    private final int sampleRate, sentence, flags, index;

    public ChunkInfo(int sampleRate, int sentence, int flags, int index) {
      this.sampleRate = sampleRate;
      this.sentence = sentence;
      this.flags = flags;
      this.index = index;
    }

    public int getSampleRate() { return sampleRate; }
    public int getSentence() { return sentence; }
    public int getFlags() { return flags; }
    public int getIndex() { return index; }
    public boolean isEndOfSentence() { return (flags & CHUNK_END_OF_SENTENCE) != 0; }
    public boolean isPromptTrimmed() { return (flags & CHUNK_PROMPT_TRIMMED) != 0; }
    public boolean isSpedUp() { return (flags & CHUNK_SPED_UP) != 0; }
  }

  /**
   * Receives audio while it is synthesized, on the synthesizing thread: mono float in [-1, 1] at
   * chunk.getSampleRate(); the array belongs to the callee. Return false to stop.
   */
  public interface AudioCallback {
    boolean onAudio(float[] samples, ChunkInfo chunk);
  }

  /** What the bundle accepts (ms_limits). */
  public static final class Limits {
    private final int sampleRate, numCodebooks, maxStepsPerLayer, maxChars, maxPhonemes, maxFrames,
        maxPromptFrames, numSymbols, numThreads;
    private final boolean hasTextFrontend;
    private final float frameRate, minPromptSeconds, maxPromptSeconds;

    public Limits(int sampleRate, int numCodebooks, int maxStepsPerLayer, int maxChars,
                  int maxPhonemes, int maxFrames, int maxPromptFrames, int numSymbols,
                  boolean hasTextFrontend, int numThreads, float frameRate, float minPromptSeconds,
                  float maxPromptSeconds) {
      this.sampleRate = sampleRate;
      this.numCodebooks = numCodebooks;
      this.maxStepsPerLayer = maxStepsPerLayer;
      this.maxChars = maxChars;
      this.maxPhonemes = maxPhonemes;
      this.maxFrames = maxFrames;
      this.maxPromptFrames = maxPromptFrames;
      this.numSymbols = numSymbols;
      this.hasTextFrontend = hasTextFrontend;
      this.numThreads = numThreads;
      this.frameRate = frameRate;
      this.minPromptSeconds = minPromptSeconds;
      this.maxPromptSeconds = maxPromptSeconds;
    }

    public int getSampleRate() { return sampleRate; }
    public int getNumCodebooks() { return numCodebooks; }
    public int getMaxStepsPerLayer() { return maxStepsPerLayer; }
    public int getMaxChars() { return maxChars; }
    public int getMaxPhonemes() { return maxPhonemes; }
    public int getMaxFrames() { return maxFrames; }
    public int getMaxPromptFrames() { return maxPromptFrames; }
    public int getNumSymbols() { return numSymbols; }
    public boolean getHasTextFrontend() { return hasTextFrontend; }
    public int getNumThreads() { return numThreads; }
    public float getFrameRate() { return frameRate; }
    public float getMinPromptSeconds() { return minPromptSeconds; }
    public float getMaxPromptSeconds() { return maxPromptSeconds; }
  }

  /** Seconds per stage of the last synthesis, measured by the library (ms_timings). */
  public static final class Timings {
    private final double frontendSeconds, promptSeconds, textSeconds, smdSeconds, decoderSeconds,
        firstAudioSeconds, audioSeconds;
    private final long smdCalls, frames;

    public Timings(double frontendSeconds, double promptSeconds, double textSeconds,
                   double smdSeconds, double decoderSeconds, double firstAudioSeconds,
                   double audioSeconds, long smdCalls, long frames) {
      this.frontendSeconds = frontendSeconds;
      this.promptSeconds = promptSeconds;
      this.textSeconds = textSeconds;
      this.smdSeconds = smdSeconds;
      this.decoderSeconds = decoderSeconds;
      this.firstAudioSeconds = firstAudioSeconds;
      this.audioSeconds = audioSeconds;
      this.smdCalls = smdCalls;
      this.frames = frames;
    }

    public double getFrontendSeconds() { return frontendSeconds; }
    public double getPromptSeconds() { return promptSeconds; }
    public double getTextSeconds() { return textSeconds; }
    public double getSmdSeconds() { return smdSeconds; }
    public double getDecoderSeconds() { return decoderSeconds; }
    /** From start to the first chunk with audio; negative while none was produced. */
    public double getFirstAudioSeconds() { return firstAudioSeconds; }
    public double getAudioSeconds() { return audioSeconds; }
    public long getSmdCalls() { return smdCalls; }
    public long getFrames() { return frames; }
  }

  /**
   * Outcome of one streamed synthesis. computeSeconds is the wall time inside the library (start +
   * every next), not counting the callback, so getRtf() = computeSeconds / audioSeconds is the
   * synthesis speed. firstAudioSeconds: from the start call to the first chunk's return; -1 if none.
   */
  public static final class SynthesisResult {
    private final int sampleRate;
    private final long numSamples;
    private final int numChunks;
    private final double computeSeconds, firstAudioSeconds;
    private final boolean cancelled;
    private final Timings timings;

    public SynthesisResult(int sampleRate, long numSamples, int numChunks, double computeSeconds,
                           double firstAudioSeconds, boolean cancelled, Timings timings) {
      this.sampleRate = sampleRate;
      this.numSamples = numSamples;
      this.numChunks = numChunks;
      this.computeSeconds = computeSeconds;
      this.firstAudioSeconds = firstAudioSeconds;
      this.cancelled = cancelled;
      this.timings = timings;
    }

    public int getSampleRate() { return sampleRate; }
    public long getNumSamples() { return numSamples; }
    public int getNumChunks() { return numChunks; }
    public double getComputeSeconds() { return computeSeconds; }
    public double getFirstAudioSeconds() { return firstAudioSeconds; }
    public boolean isCancelled() { return cancelled; }
    public Timings getTimings() { return timings; }
    public double getAudioSeconds() { return sampleRate > 0 ? (double) numSamples / sampleRate : 0.0; }
    public double getRtf() {
      double a = getAudioSeconds();
      return a > 0.0 ? computeSeconds / a : Double.NaN;
    }
  }

  private interface Starter {
    void start(long handle);
  }

  private final Object lock = new Object();        // serializes use of the handle
  private final Object handleGuard = new Object();  // orders cancel() against destroy
  private volatile long handle;
  private volatile boolean cancelRequested = false;
  private final Limits limits;
  private Map<String, Integer> symbolIds = null;

  public MobileSpeech(Config config) {
    Long seed = config.getSeed();
    handle = NativeBridge.nativeCreate(config.getBundleDir(), config.getNumThreads(), seed != null,
        seed != null ? seed : 0L, config.getSteps(), config.getLengthScale(),
        config.getVerifyChecksums());
    try {
      int[] ints = new int[10];
      float[] floats = new float[3];
      NativeBridge.nativeLimits(handle, ints, floats);
      limits = new Limits(ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7],
          ints[8] != 0, ints[9], floats[0], floats[1], floats[2]);
    } catch (RuntimeException | Error e) {
      NativeBridge.nativeDestroy(handle);
      handle = 0L;
      throw e;
    }
  }

  /** "MAJOR.MINOR.PATCH (executorch X)" of the loaded libmobilespeech. */
  public static String version() {
    return NativeBridge.nativeVersion();
  }

  public Limits getLimits() { return limits; }

  /** Output sample rate in Hz. */
  public int getSampleRate() { return limits.getSampleRate(); }

  public boolean isClosed() { return handle == 0L; }

  /** Streams speech for text in the voice of prompt (null: the bundle's default voice). */
  public SynthesisResult synthesize(final String text, final Prompt prompt, AudioCallback callback) {
    Objects.requireNonNull(text, "text");
    return stream(callback, h -> NativeBridge.nativeStart(h, text, samples(prompt), rate(prompt),
        channels(prompt)));
  }

  /** Same from phoneme ids: one int[] per chunk (sentence), ids in 0 until numSymbols. */
  public SynthesisResult synthesizePhonemes(int[][] chunks, final Prompt prompt,
                                            AudioCallback callback) {
    final int[][] flat = flatten(chunks);
    return stream(callback, h -> NativeBridge.nativeStartPhonemes(h, flat[0], flat[1],
        samples(prompt), rate(prompt), channels(prompt)));
  }

  /** The whole utterance at once (ms_synth_speak), mono float at getSampleRate(). */
  public float[] speak(String text, Prompt prompt) {
    Objects.requireNonNull(text, "text");
    synchronized (lock) {
      cancelRequested = false;
      return NativeBridge.nativeSpeak(checkOpen(), text, samples(prompt), rate(prompt),
          channels(prompt));
    }
  }

  /** speak() from phoneme ids (ms_synth_speak_phonemes). */
  public float[] speakPhonemes(int[][] chunks, Prompt prompt) {
    synchronized (lock) {
      cancelRequested = false;
      int[][] flat = flatten(chunks);
      return NativeBridge.nativeSpeakPhonemes(checkOpen(), flat[0], flat[1], samples(prompt),
          rate(prompt), channels(prompt));
    }
  }

  /** Stops the synthesis in progress (any thread); no effect when idle. */
  public void cancel() {
    synchronized (handleGuard) {
      cancelRequested = true;
      long h = handle;
      if (h != 0L) NativeBridge.nativeCancel(h);
    }
  }

  /** Timings of the last synthesis as the library measured them. */
  public Timings getLastTimings() {
    synchronized (lock) {
      return readTimings(checkOpen());
    }
  }

  /** Phoneme symbol of an id, null when out of range. */
  public String symbol(int id) {
    synchronized (lock) {
      return NativeBridge.nativeSymbol(checkOpen(), id);
    }
  }

  /** Id of a phoneme symbol, -1 when the bundle has no such symbol. */
  public int phonemeId(String symbol) {
    synchronized (lock) {
      if (symbolIds == null) {
        long h = checkOpen();
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < limits.getNumSymbols(); i++) {
          String s = NativeBridge.nativeSymbol(h, i);
          if (s != null && !m.containsKey(s)) m.put(s, i);
        }
        symbolIds = m;
      }
      Integer id = symbolIds.get(symbol);
      return id != null ? id : -1;
    }
  }

  /** Frees the native handle; safe from any thread and more than once. */
  @Override
  public void close() {
    synchronized (handleGuard) {
      if (handle == 0L) return;
      cancelRequested = true;
      NativeBridge.nativeCancel(handle);
    }
    synchronized (lock) {
      long h;
      synchronized (handleGuard) {
        h = handle;
        handle = 0L;
      }
      if (h != 0L) NativeBridge.nativeDestroy(h);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private static float[] samples(Prompt p) { return p != null ? p.getSamples() : null; }
  private static int rate(Prompt p) { return p != null ? p.getSampleRate() : 0; }
  private static int channels(Prompt p) { return p != null ? p.getChannels() : 0; }

  private long checkOpen() {
    long h = handle;
    if (h == 0L) throw new IllegalStateException("MobileSpeech is closed");
    return h;
  }

  private static Timings readTimings(long h) {
    double[] t = new double[9];
    NativeBridge.nativeTimings(h, t);
    return new Timings(t[0], t[1], t[2], t[3], t[4], t[5], t[6], (long) t[7], (long) t[8]);
  }

  private static int[][] flatten(int[][] chunks) {
    int total = 0;
    for (int[] c : chunks) total += c.length;
    int[] ids = new int[total];
    int[] lengths = new int[chunks.length];
    int pos = 0;
    for (int i = 0; i < chunks.length; i++) {
      System.arraycopy(chunks[i], 0, ids, pos, chunks[i].length);
      pos += chunks[i].length;
      lengths[i] = chunks[i].length;
    }
    return new int[][] {ids, lengths};
  }

  // The pull loop of the C ABI: start, then next until done, handing every chunk to callback.
  private SynthesisResult stream(AudioCallback callback, Starter starter) {
    Objects.requireNonNull(callback, "callback");
    synchronized (lock) {
      long h = checkOpen();
      cancelRequested = false;
      int[] info = new int[3];
      long computeNanos = 0L;
      double firstAudio = -1.0;
      long numSamples = 0L;
      int numChunks = 0;
      int rate = limits.getSampleRate();
      boolean cancelled = false;
      long t0 = System.nanoTime();
      try {
        starter.start(h);
      } catch (MobileSpeechException e) {
        if (e.getStatus() != MobileSpeechException.ERR_CANCELLED) throw e;
        cancelled = true;
      }
      computeNanos += System.nanoTime() - t0;
      while (!cancelled) {
        if (cancelRequested) {
          cancelled = true;
          break;
        }
        long t = System.nanoTime();
        float[] samples;
        try {
          samples = NativeBridge.nativeNext(h, info);
        } catch (MobileSpeechException e) {
          if (e.getStatus() != MobileSpeechException.ERR_CANCELLED) throw e;
          cancelled = true;
          break;
        }
        long now = System.nanoTime();
        computeNanos += now - t;
        if (samples == null) break;
        if (firstAudio < 0.0) firstAudio = (now - t0) / 1e9;
        numSamples += samples.length;
        rate = info[2];
        boolean keepGoing = callback.onAudio(samples, new ChunkInfo(info[2], info[0], info[1], numChunks));
        numChunks++;
        if (!keepGoing) {
          cancelled = true;
          break;
        }
      }
      // close() from inside the callback destroys the handle: no timings to read then.
      Timings timings = handle != 0L ? readTimings(h)
          : new Timings(0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0L, 0L);
      return new SynthesisResult(rate, numSamples, numChunks, computeNanos / 1e9, firstAudio,
          cancelled, timings);
    }
  }
}
