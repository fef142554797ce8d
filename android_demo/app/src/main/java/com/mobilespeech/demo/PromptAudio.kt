package com.mobilespeech.demo

import android.annotation.SuppressLint
import android.media.AudioFormat
import android.media.AudioRecord
import android.media.MediaRecorder
import com.mobilespeech.MobileSpeech
import java.io.IOException
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Prompt voices: a WAV file's bytes (from the SAF picker) or the microphone (AudioRecord). */
object PromptAudio {

    /**
     * Parses a RIFF/WAVE file: PCM 8/16/24/32-bit or IEEE float 32-bit (also inside
     * WAVE_FORMAT_EXTENSIBLE), any channel count and rate. The samples stay interleaved: the
     * library mixes them to mono and resamples.
     */
    @Throws(IOException::class)
    fun readWav(bytes: ByteArray): MobileSpeech.Prompt {
        val b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
        if (bytes.size < 12 || tag(bytes, 0) != "RIFF" || tag(bytes, 8) != "WAVE") {
            throw IOException("not a WAV file (pick a .wav; other formats are not decoded by this demo)")
        }
        var pos = 12
        var format = -1
        var channels = 0
        var rate = 0
        var bits = 0
        var dataOff = -1
        var dataLen = 0
        while (pos + 8 <= bytes.size) {
            val id = tag(bytes, pos)
            val len = b.getInt(pos + 4)
            val body = pos + 8
            if (len < 0 || body + len > bytes.size && id != "data") throw IOException("corrupt WAV chunk $id")
            if (id == "fmt ") {
                format = b.getShort(body).toInt() and 0xFFFF
                channels = b.getShort(body + 2).toInt()
                rate = b.getInt(body + 4)
                bits = b.getShort(body + 14).toInt()
                if (format == 0xFFFE && len >= 26) format = b.getShort(body + 24).toInt() and 0xFFFF
            } else if (id == "data") {
                dataOff = body
                dataLen = minOf(len, bytes.size - body) // tolerate a truncated last chunk
                break
            }
            pos = body + len + (len and 1)
        }
        if (format < 0 || dataOff < 0) throw IOException("WAV without fmt or data chunk")
        if (channels < 1 || rate < 1) throw IOException("WAV with $channels channels at $rate Hz")
        val bytesPer = bits / 8
        val n = dataLen / bytesPer
        val out = FloatArray(n - n % channels)
        for (i in out.indices) {
            val p = dataOff + i * bytesPer
            out[i] = when {
                format == 1 && bits == 16 -> b.getShort(p) / 32768f
                format == 1 && bits == 8 -> ((bytes[p].toInt() and 0xFF) - 128) / 128f
                format == 1 && bits == 24 ->
                    ((bytes[p].toInt() and 0xFF) or ((bytes[p + 1].toInt() and 0xFF) shl 8) or
                        (bytes[p + 2].toInt() shl 16)) / 8388608f
                format == 1 && bits == 32 -> b.getInt(p) / 2147483648f
                format == 3 && bits == 32 -> b.getFloat(p)
                else -> throw IOException("unsupported WAV encoding (format $format, $bits bits)")
            }
        }
        return MobileSpeech.Prompt(out, rate, channels)
    }

    private fun tag(bytes: ByteArray, at: Int): String = String(bytes, at, 4, Charsets.US_ASCII)

    /**
     * Records [seconds] of mono 16 kHz audio (blocking: call off the UI thread). Needs the
     * RECORD_AUDIO permission, which the activity asks for first.
     */
    @SuppressLint("MissingPermission")
    @Throws(IOException::class)
    fun record(seconds: Double, sampleRate: Int = 16000): MobileSpeech.Prompt {
        val min = AudioRecord.getMinBufferSize(sampleRate, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT)
        if (min <= 0) throw IOException("AudioRecord does not support $sampleRate Hz mono here")
        val rec = AudioRecord(
            MediaRecorder.AudioSource.VOICE_RECOGNITION, sampleRate, AudioFormat.CHANNEL_IN_MONO,
            AudioFormat.ENCODING_PCM_16BIT, maxOf(min, sampleRate / 5 * 2)
        )
        if (rec.state != AudioRecord.STATE_INITIALIZED) {
            rec.release()
            throw IOException("the microphone could not be opened")
        }
        val pcm = ShortArray((seconds * sampleRate).toInt())
        try {
            rec.startRecording()
            var got = 0
            while (got < pcm.size) {
                val n = rec.read(pcm, got, minOf(pcm.size - got, sampleRate / 10))
                if (n < 0) throw IOException("AudioRecord.read failed ($n)")
                got += n
            }
        } finally {
            rec.stop()
            rec.release()
        }
        return MobileSpeech.Prompt(FloatArray(pcm.size) { pcm[it] / 32768f }, sampleRate, 1)
    }
}
