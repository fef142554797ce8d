// JniHarness - drives com.mobilespeech.MobileSpeech (the Kotlin class of the SDK module
// android_demo/sdk, compiled by kotlinc) through the JNI bridge on a desktop JVM, the way the
// Android app does, and writes what it saw for tests/test_jni_bridge.py to check:
//
//   java -Djava.library.path=DIR -cp CLASSES com.mobilespeech.harness.JniHarness \
//        BUNDLE_DIR OUT_DIR "HH,AH0,L,OW1" [PROMPT_WAV]
//
// OUT_DIR receives result.json and raw little-endian float32 audio: stream.f32 (phonemes,
// streamed, default voice), speak.f32 (same through speakPhonemes), text.f32 (text, when the
// build and bundle have a text frontend), prompt_in.f32 / prompt.f32 (a prompt passed as PCM).
// Exits non-zero when a check made here fails (the message says which).
package com.mobilespeech.harness;

import com.mobilespeech.MobileSpeech;
import com.mobilespeech.MobileSpeechException;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;

public final class JniHarness {
  private final Map<String, Object> out = new LinkedHashMap<>();
  private final File outDir;

  private JniHarness(File outDir) {
    this.outDir = outDir;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: JniHarness BUNDLE_DIR OUT_DIR SYMBOLS [PROMPT_WAV]");
      System.exit(2);
    }
    JniHarness h = new JniHarness(new File(args[1]));
    h.outDir.mkdirs();
    try {
      h.run(args[0], args[2].split(","), args.length > 3 ? new File(args[3]) : null);
    } finally {
      h.writeJson();
    }
    System.out.println("harness: ok");
  }

  private static void check(boolean cond, String what) {
    if (!cond) throw new AssertionError("harness check failed: " + what);
  }

  @SuppressWarnings("try")
  private void run(String bundle, String[] symbols, File promptWav) throws Exception {
    out.put("api_class", MobileSpeech.class.getProtectionDomain().getCodeSource().getLocation().toString());
    out.put("version", MobileSpeech.version());

    // ---- errors become MobileSpeechException with the C status and message ----------------
    out.put("error_bad_bundle", expectError(() -> new MobileSpeech(new MobileSpeech.Config(bundle + "/no-such-bundle"))));
    MobileSpeech.Config badThreads = new MobileSpeech.Config(bundle);
    badThreads.setNumThreads(-3);
    out.put("error_bad_threads", expectError(() -> new MobileSpeech(badThreads)));

    MobileSpeech.Config config = new MobileSpeech.Config(bundle);
    config.setNumThreads(1);
    config.setSeed(7L);
    try (MobileSpeech tts = new MobileSpeech(config)) {
      MobileSpeech.Limits lim = tts.getLimits();
      Map<String, Object> limits = new LinkedHashMap<>();
      limits.put("sample_rate", lim.getSampleRate());
      limits.put("n_codebooks", lim.getNumCodebooks());
      limits.put("max_phonemes", lim.getMaxPhonemes());
      limits.put("n_symbols", lim.getNumSymbols());
      limits.put("has_text_frontend", lim.getHasTextFrontend());
      limits.put("num_threads", lim.getNumThreads());
      limits.put("frame_rate", lim.getFrameRate());
      limits.put("min_prompt_seconds", lim.getMinPromptSeconds());
      out.put("limits", limits);
      check(tts.getSampleRate() == lim.getSampleRate() && lim.getSampleRate() > 0, "sample rate");

      int[] ids = new int[symbols.length];
      for (int i = 0; i < symbols.length; i++) {
        ids[i] = tts.phonemeId(symbols[i]);
        check(ids[i] >= 0, "symbol " + symbols[i] + " is in the bundle");
        check(symbols[i].equals(tts.symbol(ids[i])), "symbol(phonemeId(s)) == s");
      }
      check(tts.symbol(-1) == null && tts.symbol(lim.getNumSymbols()) == null, "symbol out of range is null");
      out.put("ids", ids);
      // Three sentences of the symbols said three times: several decoder windows to stream.
      int[] sentence = new int[3 * ids.length];
      for (int k = 0; k < 3; k++) System.arraycopy(ids, 0, sentence, k * ids.length, ids.length);
      int[][] chunks = {sentence, sentence, sentence};
      out.put("chunks", java.util.Arrays.asList(sentence, sentence, sentence));

      // ---- streaming (default voice): chunks through the callback, as the app's AudioTrack ---
      List<float[]> got = new ArrayList<>();
      List<Integer> rates = new ArrayList<>();
      List<Integer> sentences = new ArrayList<>();
      List<Boolean> ends = new ArrayList<>();
      MobileSpeech.SynthesisResult r = tts.synthesizePhonemes(chunks, null, (samples, chunk) -> {
        got.add(samples);
        rates.add(chunk.getSampleRate());
        sentences.add(chunk.getSentence());
        ends.add(chunk.isEndOfSentence());
        check(chunk.getIndex() == got.size() - 1, "chunk index");
        return true;
      });
      out.put("stream_chunk_sentences", sentences);
      out.put("stream_chunk_ends", ends);
      float[] stream = concat(got);
      writeF32("stream.f32", stream);
      out.put("stream", result(r, got.size()));
      out.put("stream_chunk_rates", rates);
      check(!r.isCancelled(), "not cancelled");
      check(r.getNumSamples() == stream.length && r.getNumChunks() == got.size(), "counts");
      check(r.getFirstAudioSeconds() >= 0 && r.getRtf() > 0, "timings measured");

      // ---- whole utterance, same seed: identical samples ----------------------------------
      float[] speak = tts.speakPhonemes(chunks, null);
      writeF32("speak.f32", speak);

      // ---- text (needs a text frontend in the build and frontend assets in the bundle) -------
      Map<String, Object> text = new LinkedHashMap<>();
      try {
        List<float[]> tg = new ArrayList<>();
        MobileSpeech.SynthesisResult tr = tts.synthesize("Hello there.", null, (s, c) -> tg.add(s));
        writeF32("text.f32", concat(tg));
        text.put("ok", true);
        text.put("result", result(tr, tg.size()));
      } catch (MobileSpeechException e) {
        text.put("ok", false);
        text.put("error", error(e));
      }
      out.put("text", text);

      // ---- a prompt given as PCM (what AudioRecord / a picked file gives the app) ----------
      if (promptWav != null) {
        float[][] pcm = readWav(promptWav);
        float[] prompt = pcm[0];
        int rate = (int) pcm[1][0];
        int channels = (int) pcm[1][1];
        writeF32("prompt_in.f32", prompt);
        List<float[]> pg = new ArrayList<>();
        MobileSpeech.SynthesisResult pr = tts.synthesizePhonemes(chunks,
            new MobileSpeech.Prompt(prompt, rate, channels), (s, c) -> pg.add(s));
        writeF32("prompt.f32", concat(pg));
        Map<String, Object> p = result(pr, pg.size());
        p.put("prompt_rate", rate);
        p.put("prompt_channels", channels);
        out.put("prompt", p);
      }

      // ---- the callback stops the synthesis by returning false ------------------------------
      List<float[]> one = new ArrayList<>();
      MobileSpeech.SynthesisResult stopped = tts.synthesizePhonemes(chunks, null, (s, c) -> {
        one.add(s);
        return false;
      });
      check(stopped.isCancelled() && one.size() == 1 && got.size() > 1,
          "callback returning false stops after one chunk of " + got.size());
      out.put("stopped_by_callback", result(stopped, one.size()));

      // ---- cancel() from another thread while the synthesis runs ----------------------------
      List<float[]> before = new ArrayList<>();
      AtomicReference<Throwable> threadError = new AtomicReference<>();
      MobileSpeech.SynthesisResult cancelled = tts.synthesizePhonemes(chunks, null, (s, c) -> {
        before.add(s);
        if (c.getIndex() == 0) {
          Thread t = new Thread(() -> {
            try {
              tts.cancel();
            } catch (Throwable e) {
              threadError.set(e);
            }
          });
          t.start();
          try {
            t.join();
          } catch (InterruptedException e) {
            throw new RuntimeException(e);
          }
        }
        return true;
      });
      check(threadError.get() == null, "cancel() from another thread: " + threadError.get());
      check(cancelled.isCancelled() && before.size() < got.size(),
          "cancel() from another thread stops the synthesis early");
      out.put("cancelled_from_thread", result(cancelled, before.size()));

      // ---- the handle is usable after a cancel, and deterministic -------------------------
      float[] again = tts.speakPhonemes(chunks, null);
      check(java.util.Arrays.equals(again, speak), "same audio after a cancelled synthesis");

      // ---- bad input: MobileSpeechException with the library's status and message ----------
      out.put("error_bad_phoneme", expectError(() -> tts.speakPhonemes(new int[][] {{lim.getNumSymbols() + 5}}, null)));
      out.put("error_silent_prompt", expectError(() -> tts.speakPhonemes(chunks,
          new MobileSpeech.Prompt(new float[2 * 16000], 16000, 1))));
      out.put("error_bad_channels", expectError(() -> tts.speakPhonemes(chunks,
          new MobileSpeech.Prompt(new float[3], 16000, 2))));
      out.put("error_nul_text", expectError(() -> tts.speak("a\u0000b", null)));
      out.put("error_empty_chunks", expectError(() -> tts.speakPhonemes(new int[0][], null)));
      out.put("timings", timings(tts.getLastTimings()));
      check(!tts.isClosed(), "open");
      tts.close();
      tts.close();  // twice is fine
      check(tts.isClosed(), "closed");
      String closedError = "none";
      try {
        tts.speakPhonemes(chunks, null);
      } catch (IllegalStateException e) {
        closedError = "IllegalStateException: " + e.getMessage();
      }
      out.put("use_after_close", closedError);
    }
  }

  private interface Action {
    Object run() throws Exception;
  }

  private static Map<String, Object> expectError(Action a) throws Exception {
    try {
      Object r = a.run();
      if (r instanceof AutoCloseable) ((AutoCloseable) r).close();
    } catch (MobileSpeechException e) {
      return error(e);
    }
    throw new AssertionError("harness check failed: expected a MobileSpeechException");
  }

  private static Map<String, Object> error(MobileSpeechException e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", e.getStatus());
    m.put("status_name", e.getStatusName());
    m.put("message", e.getMessage());
    m.put("class", e.getClass().getName());
    m.put("is_runtime_exception", e instanceof RuntimeException);
    return m;
  }

  private static Map<String, Object> result(MobileSpeech.SynthesisResult r, int callbacks) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sample_rate", r.getSampleRate());
    m.put("num_samples", r.getNumSamples());
    m.put("num_chunks", r.getNumChunks());
    m.put("callbacks", callbacks);
    m.put("audio_seconds", r.getAudioSeconds());
    m.put("compute_seconds", r.getComputeSeconds());
    m.put("first_audio_seconds", r.getFirstAudioSeconds());
    m.put("rtf", r.getRtf());
    m.put("cancelled", r.isCancelled());
    m.put("timings", timings(r.getTimings()));
    return m;
  }

  private static Map<String, Object> timings(MobileSpeech.Timings t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("prompt_s", t.getPromptSeconds());
    m.put("text_s", t.getTextSeconds());
    m.put("smd_s", t.getSmdSeconds());
    m.put("decoder_s", t.getDecoderSeconds());
    m.put("first_audio_s", t.getFirstAudioSeconds());
    m.put("audio_s", t.getAudioSeconds());
    m.put("smd_calls", t.getSmdCalls());
    m.put("frames", t.getFrames());
    return m;
  }

  private static float[] concat(List<float[]> parts) {
    int n = 0;
    for (float[] p : parts) n += p.length;
    float[] all = new float[n];
    int pos = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, pos, p.length);
      pos += p.length;
    }
    return all;
  }

  // 16-bit PCM WAV -> interleaved float (x / 32768), as the app's WAV reader does.
  private static float[][] readWav(File f) throws Exception {
    try (AudioInputStream in = AudioSystem.getAudioInputStream(f)) {
      AudioFormat fmt = in.getFormat();
      if (fmt.getEncoding() != AudioFormat.Encoding.PCM_SIGNED || fmt.getSampleSizeInBits() != 16) {
        throw new IOException("the harness reads 16-bit PCM WAV only: " + fmt);
      }
      byte[] bytes = readAll(in);
      ByteBuffer b = ByteBuffer.wrap(bytes).order(fmt.isBigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      float[] pcm = new float[bytes.length / 2];
      for (int i = 0; i < pcm.length; i++) pcm[i] = b.getShort() / 32768.0f;
      return new float[][] {pcm, {fmt.getSampleRate(), fmt.getChannels()}};
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    byte[] buf = new byte[65536];
    int n;
    while ((n = in.read(buf)) > 0) bo.write(buf, 0, n);
    return bo.toByteArray();
  }

  private void writeF32(String name, float[] x) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : x) b.putFloat(v);
    Files.write(new File(outDir, name).toPath(), b.array());
  }

  // ---- a small JSON writer (no library on the classpath) ------------------------------------
  private void writeJson() throws IOException {
    StringBuilder sb = new StringBuilder();
    json(sb, out);
    Files.write(new File(outDir, "result.json").toPath(), sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) sb.append(',');
        first = false;
        json(sb, String.valueOf(e.getKey()));
        sb.append(':');
        json(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List) {
      sb.append('[');
      boolean first = true;
      for (Object o : (List<?>) v) {
        if (!first) sb.append(',');
        first = false;
        json(sb, o);
      }
      sb.append(']');
    } else if (v instanceof int[]) {
      List<Object> l = new ArrayList<>();
      for (int i : (int[]) v) l.add(i);
      json(sb, l);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      sb.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.9g", d) : "null");
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else {
      String s = v.toString();
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '"' || c == '\\') {
          sb.append('\\').append(c);
        } else if (c < 0x20) {
          sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
        } else {
          sb.append(c);
        }
      }
      sb.append('"');
    }
  }
}
