// DemoModel - the screen's state (main actor) and SynthWorker, which owns the synthesizer and
// the player and does all its work on one serial queue (the C ABI's "one handle per thread").
import AVFoundation
import Foundation

/// Loads the bundle (again when the thread count changes), synthesizes and plays. Every method
/// but cancel() runs its work on `queue`.
final class SynthWorker {
    struct Outcome {
        let result: MobileSpeech.SynthesisResult
        let loadSeconds: Double?
        let threadsInEffect: Int
    }

    private let queue = DispatchQueue(label: "com.mobilespeech.demo.tts", qos: .userInitiated)
    private let lock = NSLock()
    private var tts: MobileSpeech?  // written on `queue`, read by cancel() under `lock`
    private var loadedKey = ""
    let player = StreamPlayer()

    func speak(text: String, prompt: MobileSpeech.Prompt?, bundle: URL, threads: Int,
               completion: @escaping (Result<Outcome, Error>) -> Void) {
        queue.async {
            completion(Result(catching: { try self.speakNow(text: text, prompt: prompt, bundle: bundle, threads: threads) }))
        }
    }

    /// Stops synthesis and playback (any thread).
    func cancel() {
        lock.lock()
        let t = tts
        lock.unlock()
        t?.cancel()
        player.stop()
    }

    private func speakNow(text: String, prompt: MobileSpeech.Prompt?, bundle: URL, threads: Int) throws -> Outcome {
        var loadSeconds: Double?
        let key = "\(bundle.path)|\(threads)"
        if tts == nil || key != loadedKey {
            // num_threads applies when no other handle is alive: free the old one first.
            lock.lock(); let old = tts; tts = nil; lock.unlock()
            old?.close()
            let t0 = Date()
            let created = try MobileSpeech(config: .init(bundleDir: bundle.path, numThreads: threads))
            loadSeconds = Date().timeIntervalSince(t0)
            lock.lock(); tts = created; lock.unlock()
            loadedKey = key
        }
        guard let tts = tts else { throw MobileSpeechError(status: MobileSpeechError.state, message: "no model") }
        try player.start(sampleRate: tts.sampleRate)
        let result = try tts.synthesize(text: text, prompt: prompt) { [player] samples, _ in
            player.enqueue(samples)
            return true
        }
        return Outcome(result: result, loadSeconds: loadSeconds, threadsInEffect: tts.limits.numThreads)
    }
}

@MainActor
final class DemoModel: ObservableObject {
    @Published var text = "Hello! This voice was cloned on the phone, from a few seconds of audio."
    @Published var threads = 2
    @Published var isSpeaking = false
    @Published var isRecording = false
    @Published var status = ""
    @Published var promptLabel = "Voice: the bundle's default voice"
    @Published var rtfText = "–"
    @Published var firstAudioText = "–"
    @Published var detailText = ""

    private var prompt: MobileSpeech.Prompt?
    private let worker = SynthWorker()
    private let recorder = PromptRecorder()

    init() {
        do {
            let session = AVAudioSession.sharedInstance()
            try session.setCategory(.playAndRecord, mode: .default, options: [.defaultToSpeaker, .allowBluetoothA2DP])
            try session.setActive(true)
        } catch {
            status = "Audio session: \(error.localizedDescription)"
        }
        if let url = bundleURL() {
            status = "Bundle: \(url.lastPathComponent) (\(url.deletingLastPathComponent().lastPathComponent))"
        } else {
            status = "No bundle: add one to the app (Resources/bundle) or copy a bundle folder named "
                + "'bundle' into the app's Documents with the Files app or Finder."
        }
    }

    /// Documents/bundle (copied by the user) wins over the bundle shipped inside the app.
    func bundleURL() -> URL? {
        let fm = FileManager.default
        if let docs = fm.urls(for: .documentDirectory, in: .userDomainMask).first {
            let user = docs.appendingPathComponent("bundle")
            if fm.fileExists(atPath: user.appendingPathComponent("manifest.json").path) { return user }
        }
        if let shipped = Bundle.main.url(forResource: "bundle", withExtension: nil),
           fm.fileExists(atPath: shipped.appendingPathComponent("manifest.json").path) {
            return shipped
        }
        return nil
    }

    func speak() {
        guard !isSpeaking else { return }
        guard let bundle = bundleURL() else { return }
        isSpeaking = true
        status = "Synthesizing…"
        worker.speak(text: text, prompt: prompt, bundle: bundle, threads: threads) { [weak self] result in
            Task { @MainActor in self?.finish(result) }
        }
    }

    func stop() {
        worker.cancel()
    }

    func record() {
        guard !isRecording else { return }
        isRecording = true
        promptLabel = "Recording 5 s… speak now"
        recorder.record(seconds: 5) { [weak self] result in
            Task { @MainActor in self?.usePrompt(result, source: "recorded") }
        }
    }

    func pick(_ result: Result<URL, Error>) {
        switch result {
        case .success(let url):
            let scoped = url.startAccessingSecurityScopedResource()
            defer { if scoped { url.stopAccessingSecurityScopedResource() } }
            usePrompt(Result(catching: { try PromptAudio.read(url: url) }), source: url.lastPathComponent)
        case .failure(let error):
            promptLabel = "Pick failed: \(error.localizedDescription)"
        }
    }

    func useDefaultVoice() {
        prompt = nil
        promptLabel = "Voice: the bundle's default voice"
    }

    private func usePrompt(_ result: Result<MobileSpeech.Prompt, Error>, source: String) {
        isRecording = false
        switch result {
        case .success(let p):
            prompt = p
            promptLabel = String(format: "Voice: %@, %.1f s at %ld Hz, %ld ch", source, p.durationSeconds,
                                 p.sampleRate, p.channels)
        case .failure(let error):
            promptLabel = "Voice: \(error.localizedDescription)"
        }
    }

    private func finish(_ result: Result<SynthWorker.Outcome, Error>) {
        isSpeaking = false
        switch result {
        case .success(let o):
            let r = o.result
            rtfText = r.audioSeconds > 0 ? String(format: "%.3f", r.rtf) : "–"
            firstAudioText = r.firstAudioSeconds >= 0 ? String(format: "%.0f ms", r.firstAudioSeconds * 1000) : "–"
            var detail = String(format: "%.2f s of audio in %.2f s (%ld chunks), %ld threads",
                                r.audioSeconds, r.computeSeconds, r.numChunks, o.threadsInEffect)
            let t = r.timings
            detail += String(format: "\nprompt %.0f ms · text %.0f ms · SMD %.0f ms (%lld calls) · decoder %.0f ms",
                             t.promptSeconds * 1000, t.textSeconds * 1000, t.smdSeconds * 1000,
                             t.smdCalls, t.decoderSeconds * 1000)
            if let load = o.loadSeconds { detail += String(format: "\nmodel loaded in %.2f s", load) }
            detailText = detail
            status = r.isCancelled ? "Stopped" : "Done"
        case .failure(let error):
            status = (error as? MobileSpeechError)?.description ?? error.localizedDescription
        }
    }
}
