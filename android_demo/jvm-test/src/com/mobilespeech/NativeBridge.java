// Java twin of `internal object NativeBridge` in app/src/main/java/com/mobilespeech/MobileSpeech.kt:
// the same static native methods, so the same libmobilespeech_jni serves both.
package com.mobilespeech;

final class NativeBridge {
  static {
    String path = System.getProperty("mobilespeech.jni.library");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      System.loadLibrary("mobilespeech_jni");
    }
  }

  private NativeBridge() {}

  static native String nativeVersion();
  static native String nativeStatusName(int status);
  static native long nativeCreate(String bundleDir, int numThreads, boolean useSeed, long seed,
                                  int[] steps, float lengthScale, boolean verifyChecksums);
  static native void nativeDestroy(long handle);
  static native int nativeSampleRate(long handle);
  static native void nativeLimits(long handle, int[] ints, float[] floats);
  static native void nativeTimings(long handle, double[] out);
  static native String nativeSymbol(long handle, int id);
  static native void nativeStart(long handle, String text, float[] prompt, int sampleRate, int channels);
  static native void nativeStartPhonemes(long handle, int[] ids, int[] chunkLengths, float[] prompt,
                                         int sampleRate, int channels);
  static native float[] nativeNext(long handle, int[] info);
  static native void nativeCancel(long handle);
  static native float[] nativeSpeak(long handle, String text, float[] prompt, int sampleRate, int channels);
  static native float[] nativeSpeakPhonemes(long handle, int[] ids, int[] chunkLengths, float[] prompt,
                                            int sampleRate, int channels);
}
