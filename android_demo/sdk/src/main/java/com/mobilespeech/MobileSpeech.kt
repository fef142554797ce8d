// MobileSpeech.kt - Kotlin API over libmobilespeech (C ABI: mobilespeech.h) through the JNI
// bridge in sdk/src/main/cpp/mobilespeech_jni.cc; the SDK library module android_demo/sdk
// (Gradle `implementation(project(":sdk"))`), package com.mobilespeech.
//
//     MobileSpeech(MobileSpeech.Config(bundleDir).apply { numThreads = 2 }).use { tts ->
//         val result = tts.synthesize("Hello there.", prompt = null) { samples, chunk ->
//             audioTrack.write(samples, 0, samples.size, AudioTrack.WRITE_BLOCKING)
//             true                                   // false stops the synthesis
//         }
//         Log.i("tts", "RTF ${result.rtf}, first audio ${result.firstAudioSeconds} s")
//     }
//
// Threads: one MobileSpeech is used by one thread at a time (calls are serialized by a lock);
// cancel() and close() may be called from any thread. Errors of the C library are thrown as
// MobileSpeechException (status + the library's message); a cancelled synthesis is not an error:
// its SynthesisResult has isCancelled = true.
//
// Written in the Kotlin subset that kotlinc 1.3 accepts (no `fun interface`, no trailing commas)
// so that the desktop test (tests/test_jni_bridge.py) compiles and runs this very file with
// Debian's kotlin package, through the JVM harness in android_demo/jvm-test.
package com.mobilespeech

/** A failure reported by libmobilespeech: [status] is the C `ms_status`, the message is `ms_last_error`. */
class MobileSpeechException(val status: Int, message: String) : RuntimeException(message) {
    /** "MS_ERR_MODEL", ... */
    val statusName: String
        get() = statusName(status)

    override fun toString(): String = "MobileSpeechException[$statusName]: $message"

    companion object {
        const val OK = 0
        const val DONE = 1
        const val ERR_INVALID_ARGUMENT = 2
        const val ERR_MODEL = 3
        const val ERR_INVALID_TEXT = 4
        const val ERR_INVALID_AUDIO = 5
        const val ERR_CANCELLED = 6
        const val ERR_STATE = 7
        const val ERR_INTERNAL = 8
        const val ERR_NO_MEMORY = 9
        /** Another thread is in a call on the same handle (the C rule: one call at a time). */
        const val ERR_BUSY = 10

        /** Name of an ms_status value, as ms_status_string() spells it. */
        @JvmStatic
        fun statusName(status: Int): String = when (status) {
            OK -> "MS_OK"
            DONE -> "MS_DONE"
            ERR_INVALID_ARGUMENT -> "MS_ERR_INVALID_ARGUMENT"
            ERR_MODEL -> "MS_ERR_MODEL"
            ERR_INVALID_TEXT -> "MS_ERR_INVALID_TEXT"
            ERR_INVALID_AUDIO -> "MS_ERR_INVALID_AUDIO"
            ERR_CANCELLED -> "MS_ERR_CANCELLED"
            ERR_STATE -> "MS_ERR_STATE"
            ERR_INTERNAL -> "MS_ERR_INTERNAL"
            ERR_NO_MEMORY -> "MS_ERR_NO_MEMORY"
            ERR_BUSY -> "MS_ERR_BUSY"
            else -> "MS_UNKNOWN_STATUS"
        }
    }
}

/**
 * One loaded bundle (an `ms_synth` handle). Create it off the main thread (loading and checking
 * the bundle takes ~0.1-1 s), use it from one thread, and close it.
 */
class MobileSpeech(config: Config) : AutoCloseable {

    /** Per-model settings (`ms_synth_options`). */
    class Config(var bundleDir: String) {
        /** ExecuTorch CPU threads; 0 leaves the process's pool as it is. */
        var numThreads: Int = 0
        /** Noise seed (sentence i uses seed + i); null: the bundle's default seed. */
        var seed: Long? = null
        /** Unmasking steps per codec layer (n_codebooks values, 1..64); null: the bundle's schedule. */
        var steps: IntArray? = null
        /** Speaking-rate factor in [0.25, 4]; > 1 is slower. */
        var lengthScale: Float = 1.0f
        /** sha256 of every bundle file at load (sizes are always checked). */
        var verifyChecksums: Boolean = true
    }

    /** A prompt voice: interleaved float PCM (any level), [channels] per frame, at [sampleRate]. */
    class Prompt @JvmOverloads constructor(
        val samples: FloatArray,
        val sampleRate: Int,
        val channels: Int = 1
    ) {
        val durationSeconds: Double
            get() = if (sampleRate > 0 && channels > 0) samples.size.toDouble() / channels / sampleRate else 0.0
    }

    /** Where a chunk of streamed audio belongs. [index] counts chunks from 0 within one call. */
    class ChunkInfo(val sampleRate: Int, val sentence: Int, val flags: Int, val index: Int) {
        val isEndOfSentence: Boolean
            get() = flags and CHUNK_END_OF_SENTENCE != 0
        val isPromptTrimmed: Boolean
            get() = flags and CHUNK_PROMPT_TRIMMED != 0
        val isSpedUp: Boolean
            get() = flags and CHUNK_SPED_UP != 0
    }

    /**
     * Receives audio while it is synthesized, on the synthesizing thread. [samples] is mono float
     * in [-1, 1] at [ChunkInfo.sampleRate] and belongs to the callee. Return false to stop.
     */
    interface AudioCallback {
        fun onAudio(samples: FloatArray, chunk: ChunkInfo): Boolean
    }

    /** What the bundle accepts (`ms_limits`). */
    class Limits(
        val sampleRate: Int,
        val numCodebooks: Int,
        val maxStepsPerLayer: Int,
        val maxChars: Int,
        val maxPhonemes: Int,
        val maxFrames: Int,
        val maxPromptFrames: Int,
        val numSymbols: Int,
        val hasTextFrontend: Boolean,
        val numThreads: Int,
        val frameRate: Float,
        val minPromptSeconds: Float,
        val maxPromptSeconds: Float
    )

    /** Seconds per stage of the last synthesis, measured by the library (`ms_timings`). */
    class Timings(
        val frontendSeconds: Double,
        val promptSeconds: Double,
        val textSeconds: Double,
        val smdSeconds: Double,
        val decoderSeconds: Double,
        /** From start to the first chunk with audio; negative while none was produced. */
        val firstAudioSeconds: Double,
        val audioSeconds: Double,
        val smdCalls: Long,
        val frames: Long
    )

    /**
     * Outcome of one streamed synthesis. [computeSeconds] is the wall time spent inside the
     * library (start + every next), NOT counting the time the callback took (an AudioTrack in
     * blocking mode paces the loop at playback speed), so [rtf] = computeSeconds / audioSeconds
     * is the synthesis speed. [firstAudioSeconds] is measured from the start call to the return
     * of the first chunk (before the callback runs); -1 when no audio came.
     */
    class SynthesisResult(
        val sampleRate: Int,
        val numSamples: Long,
        val numChunks: Int,
        val computeSeconds: Double,
        val firstAudioSeconds: Double,
        val isCancelled: Boolean,
        val timings: Timings
    ) {
        val audioSeconds: Double
            get() = if (sampleRate > 0) numSamples.toDouble() / sampleRate else 0.0
        val rtf: Double
            get() = if (audioSeconds > 0.0) computeSeconds / audioSeconds else Double.NaN
    }

    private val lock = Any()        // serializes use of the handle (one thread at a time)
    private val handleGuard = Any() // orders cancel() against destroy
    @Volatile private var handle: Long
    @Volatile private var cancelRequested = false

    /** The bundle's limits, read once at creation. */
    val limits: Limits

    /** Output sample rate in Hz. */
    val sampleRate: Int
        get() = limits.sampleRate

    /** True after [close]. */
    val isClosed: Boolean
        get() = handle == 0L

    private var symbolIds: Map<String, Int>? = null

    init {
        val seed = config.seed
        handle = NativeBridge.nativeCreate(
            config.bundleDir, config.numThreads, seed != null, seed ?: 0L,
            config.steps, config.lengthScale, config.verifyChecksums
        )
        try {
            val ints = IntArray(10)
            val floats = FloatArray(3)
            NativeBridge.nativeLimits(handle, ints, floats)
            limits = Limits(
                ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7],
                ints[8] != 0, ints[9], floats[0], floats[1], floats[2]
            )
        } catch (e: Throwable) {
            NativeBridge.nativeDestroy(handle)
            handle = 0L
            throw e
        }
    }

    /** Streams speech for UTF-8 [text] in the voice of [prompt] (null: the bundle's default voice). */
    fun synthesize(text: String, prompt: Prompt?, callback: AudioCallback): SynthesisResult =
        stream(callback) { h ->
            NativeBridge.nativeStart(h, text, prompt?.samples, prompt?.sampleRate ?: 0, prompt?.channels ?: 0)
        }

    /**
     * Same from phoneme ids (apps with their own G2P; tests): one IntArray per chunk (sentence),
     * ids in 0 until [Limits.numSymbols] (see [symbol] / [phonemeId]).
     */
    fun synthesizePhonemes(chunks: Array<IntArray>, prompt: Prompt?, callback: AudioCallback): SynthesisResult {
        val flat = flatten(chunks)
        return stream(callback) { h ->
            NativeBridge.nativeStartPhonemes(
                h, flat.first, flat.second, prompt?.samples, prompt?.sampleRate ?: 0, prompt?.channels ?: 0
            )
        }
    }

    /** The whole utterance at once (`ms_synth_speak`), mono float at [sampleRate]. */
    fun speak(text: String, prompt: Prompt?): FloatArray = synchronized(lock) {
        cancelRequested = false
        NativeBridge.nativeSpeak(checkOpen(), text, prompt?.samples, prompt?.sampleRate ?: 0, prompt?.channels ?: 0)
    }

    /** [speak] from phoneme ids (`ms_synth_speak_phonemes`). */
    fun speakPhonemes(chunks: Array<IntArray>, prompt: Prompt?): FloatArray = synchronized(lock) {
        cancelRequested = false
        val flat = flatten(chunks)
        NativeBridge.nativeSpeakPhonemes(
            checkOpen(), flat.first, flat.second, prompt?.samples, prompt?.sampleRate ?: 0, prompt?.channels ?: 0
        )
    }

    /**
     * Stops the synthesis in progress (from any thread): the synthesizing call returns soon after
     * with isCancelled = true (speak/speakPhonemes throw ERR_CANCELLED). No effect when idle.
     */
    fun cancel() {
        synchronized(handleGuard) {
            cancelRequested = true
            val h = handle
            if (h != 0L) NativeBridge.nativeCancel(h)
        }
    }

    /** Timings of the last synthesis as the library measured them. */
    val lastTimings: Timings
        get() = synchronized(lock) { readTimings(checkOpen()) }

    /** Phoneme symbol of an id ("AH0", "<sil>", ...), null when out of range. */
    fun symbol(id: Int): String? = synchronized(lock) { NativeBridge.nativeSymbol(checkOpen(), id) }

    /** Id of a phoneme symbol, -1 when the bundle has no such symbol. */
    fun phonemeId(symbol: String): Int = synchronized(lock) {
        var table = symbolIds
        if (table == null) {
            val h = checkOpen()
            val m = HashMap<String, Int>()
            for (i in 0 until limits.numSymbols) {
                val s = NativeBridge.nativeSymbol(h, i)
                if (s != null && !m.containsKey(s)) m[s] = i
            }
            table = m
            symbolIds = m
        }
        table[symbol] ?: -1
    }

    /**
     * Frees the native handle. Safe from any thread and more than once: a synthesis running on
     * another thread is cancelled and finishes first. Always close (there is no finalizer).
     */
    override fun close() {
        synchronized(handleGuard) {
            if (handle == 0L) return
            cancelRequested = true
            NativeBridge.nativeCancel(handle)
        }
        synchronized(lock) {
            var h: Long
            synchronized(handleGuard) {
                h = handle
                handle = 0L
            }
            if (h != 0L) NativeBridge.nativeDestroy(h)
        }
    }

    // ---- internals ---------------------------------------------------------------------------

    private fun checkOpen(): Long {
        val h = handle
        if (h == 0L) throw IllegalStateException("MobileSpeech is closed")
        return h
    }

    private fun readTimings(h: Long): Timings {
        val t = DoubleArray(9)
        NativeBridge.nativeTimings(h, t)
        return Timings(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7].toLong(), t[8].toLong())
    }

    private fun flatten(chunks: Array<IntArray>): Pair<IntArray, IntArray> {
        var total = 0
        for (c in chunks) total += c.size
        val ids = IntArray(total)
        val lengths = IntArray(chunks.size)
        var pos = 0
        for (i in chunks.indices) {
            System.arraycopy(chunks[i], 0, ids, pos, chunks[i].size)
            pos += chunks[i].size
            lengths[i] = chunks[i].size
        }
        return Pair(ids, lengths)
    }

    // The pull loop of the C ABI: start, then next until done, handing every chunk to [callback].
    private fun stream(callback: AudioCallback, start: (Long) -> Unit): SynthesisResult = synchronized(lock) {
        val h = checkOpen()
        cancelRequested = false
        val info = IntArray(3)
        var computeNanos = 0L
        var firstAudio = -1.0
        var numSamples = 0L
        var numChunks = 0
        var rate = limits.sampleRate
        var cancelled = false
        val t0 = System.nanoTime()
        try {
            start(h)
        } catch (e: MobileSpeechException) {
            if (e.status != MobileSpeechException.ERR_CANCELLED) throw e
            cancelled = true
        }
        computeNanos += System.nanoTime() - t0
        while (!cancelled) {
            if (cancelRequested) {
                cancelled = true
                break
            }
            val t = System.nanoTime()
            var samples: FloatArray?
            try {
                samples = NativeBridge.nativeNext(h, info)
            } catch (e: MobileSpeechException) {
                if (e.status != MobileSpeechException.ERR_CANCELLED) throw e
                cancelled = true
                break
            }
            val now = System.nanoTime()
            computeNanos += now - t
            if (samples == null) break
            if (firstAudio < 0.0) firstAudio = (now - t0) / 1e9
            numSamples += samples.size.toLong()
            rate = info[2]
            val keepGoing = callback.onAudio(samples, ChunkInfo(info[2], info[0], info[1], numChunks))
            numChunks++
            if (!keepGoing) {
                cancelled = true
                break
            }
        }
        // close() from inside the callback destroys the handle: no timings to read then.
        val timings = if (handle != 0L) readTimings(h) else Timings(0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0L, 0L)
        SynthesisResult(rate, numSamples, numChunks, computeNanos / 1e9, firstAudio, cancelled, timings)
    }

    companion object {
        const val CHUNK_END_OF_SENTENCE = 1
        const val CHUNK_PROMPT_TRIMMED = 2
        const val CHUNK_SPED_UP = 4

        /** "MAJOR.MINOR.PATCH (executorch X)" of the loaded libmobilespeech. */
        @JvmStatic
        fun version(): String = NativeBridge.nativeVersion()
    }
}

/** Kotlin-friendly overload: `tts.synthesize(text, prompt) { samples, chunk -> true }`. */
inline fun MobileSpeech.synthesize(
    text: String,
    prompt: MobileSpeech.Prompt?,
    crossinline onAudio: (FloatArray, MobileSpeech.ChunkInfo) -> Boolean
): MobileSpeech.SynthesisResult = synthesize(text, prompt, object : MobileSpeech.AudioCallback {
    override fun onAudio(samples: FloatArray, chunk: MobileSpeech.ChunkInfo): Boolean = onAudio(samples, chunk)
})

/**
 * The native methods (one per C call, see mobilespeech_jni.cc). Loads `libmobilespeech_jni`
 * (which pulls in libmobilespeech) on first use; on a desktop JVM the system property
 * `mobilespeech.jni.library` may name the library file instead.
 */
internal object NativeBridge {
    init {
        val path = System.getProperty("mobilespeech.jni.library")
        if (path != null && path.isNotEmpty()) System.load(path) else System.loadLibrary("mobilespeech_jni")
    }

    @JvmStatic external fun nativeVersion(): String
    @JvmStatic external fun nativeStatusName(status: Int): String
    @JvmStatic external fun nativeCreate(
        bundleDir: String, numThreads: Int, useSeed: Boolean, seed: Long,
        steps: IntArray?, lengthScale: Float, verifyChecksums: Boolean
    ): Long
    @JvmStatic external fun nativeDestroy(handle: Long)
    @JvmStatic external fun nativeSampleRate(handle: Long): Int
    @JvmStatic external fun nativeLimits(handle: Long, ints: IntArray, floats: FloatArray)
    @JvmStatic external fun nativeTimings(handle: Long, out: DoubleArray)
    @JvmStatic external fun nativeSymbol(handle: Long, id: Int): String?
    @JvmStatic external fun nativeStart(handle: Long, text: String, prompt: FloatArray?, sampleRate: Int, channels: Int)
    @JvmStatic external fun nativeStartPhonemes(
        handle: Long, ids: IntArray, chunkLengths: IntArray, prompt: FloatArray?, sampleRate: Int, channels: Int
    )
    @JvmStatic external fun nativeNext(handle: Long, info: IntArray): FloatArray?
    @JvmStatic external fun nativeCancel(handle: Long)
    @JvmStatic external fun nativeSpeak(handle: Long, text: String, prompt: FloatArray?, sampleRate: Int, channels: Int): FloatArray
    @JvmStatic external fun nativeSpeakPhonemes(
        handle: Long, ids: IntArray, chunkLengths: IntArray, prompt: FloatArray?, sampleRate: Int, channels: Int
    ): FloatArray
}
