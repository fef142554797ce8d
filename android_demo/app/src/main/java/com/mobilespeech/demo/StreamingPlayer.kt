package com.mobilespeech.demo

import android.media.AudioAttributes
import android.media.AudioFormat
import android.media.AudioTrack

/**
 * Plays float chunks as they are synthesized: an AudioTrack in MODE_STREAM fed with blocking
 * writes from the synthesis callback (as sherpa-onnx's Android TTS demo does). The track's buffer
 * holds ~0.5 s, so a synthesis faster than real time is paced by playback, which is why the API
 * measures RTF without the callback's time.
 */
class StreamingPlayer {
    private var track: AudioTrack? = null
    private var rate = 0

    /** Prepares a track for mono float at [sampleRate] and starts it (before the first write). */
    @Synchronized
    fun start(sampleRate: Int) {
        if (track == null || rate != sampleRate) {
            release()
            val min = AudioTrack.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_OUT_MONO, AudioFormat.ENCODING_PCM_FLOAT)
            track = AudioTrack.Builder()
                .setAudioAttributes(
                    AudioAttributes.Builder()
                        .setUsage(AudioAttributes.USAGE_MEDIA)
                        .setContentType(AudioAttributes.CONTENT_TYPE_SPEECH)
                        .build()
                )
                .setAudioFormat(
                    AudioFormat.Builder()
                        .setEncoding(AudioFormat.ENCODING_PCM_FLOAT)
                        .setSampleRate(sampleRate)
                        .setChannelMask(AudioFormat.CHANNEL_OUT_MONO)
                        .build()
                )
                .setBufferSizeInBytes(maxOf(min, sampleRate * 4 / 2))
                .setTransferMode(AudioTrack.MODE_STREAM)
                .build()
            rate = sampleRate
        }
        track?.play()
    }

    /** Blocks until [samples] are in the track's buffer (called on the synthesis thread). */
    fun write(samples: FloatArray) {
        val t = track ?: return
        var off = 0
        while (off < samples.size) {
            val n = t.write(samples, off, samples.size - off, AudioTrack.WRITE_BLOCKING)
            if (n <= 0) return // paused / flushed by stop(), or an error
            off += n
        }
    }

    /** The utterance is complete: play out what is buffered, then stop. */
    @Synchronized
    fun finish() {
        track?.stop()
    }

    /** Stop now and drop what is buffered. */
    @Synchronized
    fun stop() {
        track?.let {
            it.pause()
            it.flush()
        }
    }

    @Synchronized
    fun release() {
        track?.release()
        track = null
        rate = 0
    }
}
