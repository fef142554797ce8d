package com.mobilespeech.demo

import android.Manifest
import android.app.Activity
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Bundle
import android.widget.Button
import android.widget.EditText
import android.widget.SeekBar
import android.widget.TextView
import com.mobilespeech.MobileSpeech
import com.mobilespeech.MobileSpeechException
import com.mobilespeech.synthesize
import java.io.File
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * The demo screen: text, bundle folder, prompt voice (record 5 s / pick a WAV / the bundle's
 * default voice), thread count, Speak / Stop, and the measured RTF and time to first audio.
 *
 * Threads: every MobileSpeech call but cancel() runs on [worker], one thread, which satisfies
 * the C ABI's "one handle per thread"; the UI thread only posts work and shows results.
 */
class MainActivity : Activity() {
    private lateinit var textInput: EditText
    private lateinit var bundlePath: EditText
    private lateinit var bundleStatus: TextView
    private lateinit var promptLabel: TextView
    private lateinit var threadsLabel: TextView
    private lateinit var threadsBar: SeekBar
    private lateinit var speakButton: Button
    private lateinit var recordButton: Button
    private lateinit var rtfView: TextView
    private lateinit var detailsView: TextView
    private lateinit var statusView: TextView

    private val worker: ExecutorService = Executors.newSingleThreadExecutor()
    private val player = StreamingPlayer()

    // Owned by the worker thread (read by stop() only to cancel, which is thread-safe).
    @Volatile private var tts: MobileSpeech? = null
    private var loadedKey = ""
    @Volatile private var stopRequested = false
    @Volatile private var prompt: MobileSpeech.Prompt? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        textInput = findViewById(R.id.text)
        bundlePath = findViewById(R.id.bundle_path)
        bundleStatus = findViewById(R.id.bundle_status)
        promptLabel = findViewById(R.id.prompt_label)
        threadsLabel = findViewById(R.id.threads_label)
        threadsBar = findViewById(R.id.threads)
        speakButton = findViewById(R.id.speak)
        recordButton = findViewById(R.id.record)
        rtfView = findViewById(R.id.rtf)
        detailsView = findViewById(R.id.details)
        statusView = findViewById(R.id.status)

        val cores = Runtime.getRuntime().availableProcessors()
        threadsBar.max = maxOf(0, minOf(cores, 8) - 1)
        threadsBar.progress = minOf(2, cores) - 1
        showThreads()
        threadsBar.setOnSeekBarChangeListener(object : SeekBar.OnSeekBarChangeListener {
            override fun onProgressChanged(bar: SeekBar, progress: Int, fromUser: Boolean) = showThreads()
            override fun onStartTrackingTouch(bar: SeekBar) {}
            override fun onStopTrackingTouch(bar: SeekBar) {}
        })
        promptLabel.text = "Voice: the bundle's default voice"

        findViewById<Button>(R.id.record).setOnClickListener { recordPrompt() }
        findViewById<Button>(R.id.pick).setOnClickListener { pickWav() }
        findViewById<Button>(R.id.default_voice).setOnClickListener {
            prompt = null
            promptLabel.text = "Voice: the bundle's default voice"
        }
        speakButton.setOnClickListener { speak() }
        findViewById<Button>(R.id.stop).setOnClickListener { stop() }

        // Bundle: the one shipped in assets (copied to filesDir on first run), else one pushed
        // with adb to the app's external files folder. The path field can point anywhere readable.
        speakButton.isEnabled = false
        bundleStatus.text = "Preparing the bundle…"
        worker.execute {
            val found = try {
                BundleInstaller.installFromAssets(this)
                    ?: BundleInstaller.externalBundleDir(this)?.takeIf { BundleInstaller.isBundle(it) }
            } catch (e: Exception) {
                ui { bundleStatus.text = "Copying the bundle from assets failed: ${e.message}" }
                null
            }
            ui {
                if (found != null) {
                    bundlePath.setText(found.path)
                    bundleStatus.text = "Bundle: ${found.path}  ·  ${MobileSpeech.version()}"
                } else {
                    val ext = BundleInstaller.externalBundleDir(this)?.path ?: "/sdcard/Android/data/$packageName/files/bundle"
                    bundleStatus.text = "No bundle in the APK. Push one: adb push <bundle> $ext"
                    bundlePath.setText(ext)
                }
                speakButton.isEnabled = true
            }
        }
    }

    override fun onDestroy() {
        stop()
        worker.execute {
            tts?.close()
            tts = null
            player.release()
        }
        worker.shutdown()
        super.onDestroy()
    }

    private fun threads(): Int = threadsBar.progress + 1

    private fun showThreads() {
        threadsLabel.text = "Threads: ${threads()} (of ${Runtime.getRuntime().availableProcessors()} cores)"
    }

    private fun speak() {
        val text = textInput.text.toString()
        val dir = bundlePath.text.toString().trim()
        val threads = threads()
        val voice = prompt
        speakButton.isEnabled = false
        stopRequested = false
        statusView.text = "Synthesizing…"
        worker.execute {
            try {
                var loadSeconds = -1.0
                val key = "$dir|$threads"
                if (tts == null || key != loadedKey) {
                    // num_threads takes effect when no other handle is alive: close the old one first.
                    tts?.close()
                    tts = null
                    if (!BundleInstaller.isBundle(File(dir))) throw IllegalArgumentException("no manifest.json in $dir")
                    val t0 = System.nanoTime()
                    tts = MobileSpeech(MobileSpeech.Config(dir).apply { numThreads = threads })
                    loadSeconds = (System.nanoTime() - t0) / 1e9
                    loadedKey = key
                }
                val engine = tts!!
                player.start(engine.sampleRate)
                val r = engine.synthesize(text, voice) { samples, _ ->
                    if (stopRequested) {
                        false
                    } else {
                        player.write(samples)
                        !stopRequested
                    }
                }
                if (r.isCancelled) player.stop() else player.finish()
                val threadsInEffect = engine.limits.numThreads
                ui { showResult(r, threadsInEffect, loadSeconds) }
            } catch (e: MobileSpeechException) {
                ui { statusView.text = "${e.statusName}: ${e.message}" }
            } catch (e: Exception) {
                ui { statusView.text = "Error: ${e.message}" }
            } finally {
                ui { speakButton.isEnabled = true }
            }
        }
    }

    private fun stop() {
        stopRequested = true
        tts?.cancel() // safe from any thread
        player.stop()
    }

    private fun showResult(r: MobileSpeech.SynthesisResult, threads: Int, loadSeconds: Double) {
        if (r.audioSeconds > 0) {
            rtfView.text = String.format(
                Locale.ROOT, "RTF %.3f  ·  first audio %.0f ms", r.rtf, r.firstAudioSeconds * 1000
            )
        } else {
            rtfView.text = "RTF –  ·  first audio –"
        }
        val t = r.timings
        val sb = StringBuilder()
        sb.append(String.format(Locale.ROOT, "%.2f s of audio in %.2f s (%d chunks), %d threads\n",
            r.audioSeconds, r.computeSeconds, r.numChunks, threads))
        sb.append(String.format(Locale.ROOT, "prompt %.0f ms · text %.0f ms · SMD %.0f ms (%d calls) · decoder %.0f ms",
            t.promptSeconds * 1000, t.textSeconds * 1000, t.smdSeconds * 1000, t.smdCalls, t.decoderSeconds * 1000))
        if (loadSeconds >= 0) sb.append(String.format(Locale.ROOT, "\nmodel loaded in %.2f s", loadSeconds))
        detailsView.text = sb.toString()
        statusView.text = if (r.isCancelled) "Stopped" else "Done"
    }

    // ---- prompt voice ----------------------------------------------------------------------

    private fun recordPrompt() {
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.RECORD_AUDIO), REQUEST_RECORD)
            return
        }
        recordButton.isEnabled = false
        promptLabel.text = "Recording 5 s… speak now"
        Thread {
            val text = try {
                val p = PromptAudio.record(5.0)
                prompt = p
                String.format(Locale.ROOT, "Voice: recorded, %.1f s at %d Hz", p.durationSeconds, p.sampleRate)
            } catch (e: Exception) {
                "Recording failed: ${e.message}"
            }
            ui {
                promptLabel.text = text
                recordButton.isEnabled = true
            }
        }.start()
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode == REQUEST_RECORD) {
            if (grantResults.isNotEmpty() && grantResults[0] == PackageManager.PERMISSION_GRANTED) {
                recordPrompt()
            } else {
                promptLabel.text = "Microphone permission denied"
            }
        }
    }

    private fun pickWav() {
        val intent = Intent(Intent.ACTION_OPEN_DOCUMENT)
            .addCategory(Intent.CATEGORY_OPENABLE)
            .setType("audio/*")
            .putExtra(Intent.EXTRA_MIME_TYPES, arrayOf("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"))
        @Suppress("DEPRECATION")
        startActivityForResult(intent, REQUEST_PICK)
    }

    @Deprecated("Activity result API of the platform Activity")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        @Suppress("DEPRECATION")
        super.onActivityResult(requestCode, resultCode, data)
        val uri = data?.data
        if (requestCode != REQUEST_PICK || resultCode != RESULT_OK || uri == null) return
        promptLabel.text = "Reading…"
        Thread {
            val text = try {
                val bytes = contentResolver.openInputStream(uri)?.use { it.readBytes() }
                    ?: throw java.io.IOException("cannot open $uri")
                val p = PromptAudio.readWav(bytes)
                prompt = p
                String.format(Locale.ROOT, "Voice: picked file, %.1f s at %d Hz, %d ch",
                    p.durationSeconds, p.sampleRate, p.channels)
            } catch (e: Exception) {
                "Cannot use that file: ${e.message}"
            }
            ui { promptLabel.text = text }
        }.start()
    }

    private fun ui(block: () -> Unit) = runOnUiThread { if (!isDestroyed) block() }

    private companion object {
        const val REQUEST_RECORD = 1
        const val REQUEST_PICK = 2
    }
}
