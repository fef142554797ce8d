// MobileSpeech.swift - Swift wrapper over libmobilespeech's C ABI (mobilespeech.h), imported
// through the module map `CMobileSpeech` (ios_demo/CMobileSpeech/module.modulemap, also copied
// into the xcframework's Headers by build_xcframework.sh).
//
//     let tts = try MobileSpeech(config: .init(bundleDir: dir, numThreads: 2))
//     let result = try tts.synthesize(text: "Hello there.", prompt: nil) { samples, chunk in
//         player.enqueue(samples, sampleRate: chunk.sampleRate)   // samples: borrowed, copy them
//         return true                                              // false stops the synthesis
//     }
//     print("RTF \(result.rtf), first audio \(result.firstAudioSeconds) s")
//
// The same API as the Android SDK module's MobileSpeech.kt (android_demo/sdk): Config / Prompt / ChunkInfo / Limits /
// Timings / SynthesisResult, synthesize / synthesizePhonemes (streaming), speak /
// speakPhonemes (whole utterance), cancel() from any thread, close() (or deinit).
// Threads: calls on one instance are serialized by a lock (the C rule is one handle per thread);
// cancel() and close() may come from any thread. Errors are MobileSpeechError with the C status
// and ms_last_error's message; a cancelled synthesis is not an error (result.isCancelled).
//
// Only Foundation and the C module are used, so this file also builds for macOS.
import CMobileSpeech
import Foundation

/// A failure reported by libmobilespeech: `status` is the C `ms_status`, `message` ms_last_error.
public struct MobileSpeechError: Error, CustomStringConvertible, Equatable {
    public static let invalidArgument = 2
    public static let model = 3
    public static let invalidText = 4
    public static let invalidAudio = 5
    public static let cancelled = 6
    public static let state = 7
    public static let `internal` = 8
    public static let noMemory = 9
    /// Another thread is in a call on the same handle (the C rule: one call at a time).
    public static let busy = 10

    public let status: Int
    public let message: String

    /// "MS_ERR_MODEL", ...
    public var statusName: String {
        String(cString: ms_status_string(ms_status(rawValue: numericCast(status))))
    }

    public var description: String { "MobileSpeechError[\(statusName)]: \(message)" }
}

public final class MobileSpeech {

    /// Per-model settings (`ms_synth_options`).
    public struct Config {
        public var bundleDir: String
        /// ExecuTorch CPU threads; 0 leaves the process's pool as it is.
        public var numThreads: Int = 0
        /// Noise seed (sentence i uses seed + i); nil: the bundle's default seed.
        public var seed: UInt64? = nil
        /// Unmasking steps per codec layer (n_codebooks values, 1...64); nil: the bundle's schedule.
        public var steps: [Int32]? = nil
        /// Speaking-rate factor in [0.25, 4]; > 1 is slower.
        public var lengthScale: Float = 1.0
        /// sha256 of every bundle file at load (sizes are always checked).
        public var verifyChecksums: Bool = true

        public init(bundleDir: String, numThreads: Int = 0, seed: UInt64? = nil,
                    steps: [Int32]? = nil, lengthScale: Float = 1.0, verifyChecksums: Bool = true) {
            self.bundleDir = bundleDir
            self.numThreads = numThreads
            self.seed = seed
            self.steps = steps
            self.lengthScale = lengthScale
            self.verifyChecksums = verifyChecksums
        }
    }

    /// A prompt voice: interleaved float PCM (any level), `channels` per frame, at `sampleRate`.
    public struct Prompt {
        public var samples: [Float]
        public var sampleRate: Int
        public var channels: Int

        public init(samples: [Float], sampleRate: Int, channels: Int = 1) {
            self.samples = samples
            self.sampleRate = sampleRate
            self.channels = channels
        }

        public var durationSeconds: Double {
            sampleRate > 0 && channels > 0 ? Double(samples.count) / Double(channels) / Double(sampleRate) : 0
        }
    }

    /// Where a chunk of streamed audio belongs; `index` counts chunks from 0 within one call.
    public struct ChunkInfo {
        public let sampleRate: Int
        public let sentence: Int
        public let flags: UInt32
        public let index: Int
        public var isEndOfSentence: Bool { flags & UInt32(MS_CHUNK_END_OF_SENTENCE) != 0 }
        public var isPromptTrimmed: Bool { flags & UInt32(MS_CHUNK_PROMPT_TRIMMED) != 0 }
        public var isSpedUp: Bool { flags & UInt32(MS_CHUNK_SPED_UP) != 0 }
    }

    /// What the bundle accepts (`ms_limits`).
    public struct Limits {
        public let sampleRate: Int
        public let numCodebooks: Int
        public let maxStepsPerLayer: Int
        public let maxChars: Int
        public let maxPhonemes: Int
        public let maxFrames: Int
        public let maxPromptFrames: Int
        public let numSymbols: Int
        public let hasTextFrontend: Bool
        public let numThreads: Int
        public let frameRate: Float
        public let minPromptSeconds: Float
        public let maxPromptSeconds: Float
    }

    /// Seconds per stage of the last synthesis, measured by the library (`ms_timings`).
    public struct Timings {
        public let frontendSeconds: Double
        public let promptSeconds: Double
        public let textSeconds: Double
        public let smdSeconds: Double
        public let decoderSeconds: Double
        /// From start to the first chunk with audio; negative while none was produced.
        public let firstAudioSeconds: Double
        public let audioSeconds: Double
        public let smdCalls: Int64
        public let frames: Int64

        static let empty = Timings(frontendSeconds: 0, promptSeconds: 0, textSeconds: 0, smdSeconds: 0,
                                   decoderSeconds: 0, firstAudioSeconds: -1, audioSeconds: 0,
                                   smdCalls: 0, frames: 0)
    }

    /// One streamed synthesis. `computeSeconds` is the time spent inside the library (start + every
    /// next), not counting the callback, so `rtf` = computeSeconds / audioSeconds is the synthesis
    /// speed. `firstAudioSeconds`: from the start call to the first chunk's return; -1 if none.
    public struct SynthesisResult {
        public let sampleRate: Int
        public let numSamples: Int
        public let numChunks: Int
        public let computeSeconds: Double
        public let firstAudioSeconds: Double
        public let isCancelled: Bool
        public let timings: Timings
        public var audioSeconds: Double { sampleRate > 0 ? Double(numSamples) / Double(sampleRate) : 0 }
        public var rtf: Double { audioSeconds > 0 ? computeSeconds / audioSeconds : .nan }
    }

    /// Receives borrowed samples (valid only during the call: copy them) and where they belong.
    public typealias AudioCallback = (UnsafeBufferPointer<Float>, ChunkInfo) -> Bool

    private let lock = NSRecursiveLock()  // serializes use of the handle (one thread at a time)
    private let handleLock = NSLock()     // orders cancel() against destroy
    private var handle: OpaquePointer?
    private var cancelRequested = false   // guarded by handleLock
    private var symbolIds: [String: Int]?

    /// The bundle's limits, read once at creation.
    public let limits: Limits
    /// Output sample rate in Hz.
    public var sampleRate: Int { limits.sampleRate }
    public var isClosed: Bool { handleLock.lock(); defer { handleLock.unlock() }; return handle == nil }

    /// "MAJOR.MINOR.PATCH (executorch X)" of the linked libmobilespeech.
    public static var version: String { String(cString: ms_version()) }

    /// Loads and checks a bundle (0.1-1 s: call it off the main thread).
    public init(config: Config) throws {
        var opts = ms_synth_options()
        _ = ms_synth_options_init(&opts)
        opts.num_threads = Int32(clamping: config.numThreads)
        opts.use_seed = config.seed != nil ? 1 : 0
        opts.seed = config.seed ?? 0
        opts.length_scale = config.lengthScale
        opts.verify_checksums = config.verifyChecksums ? 1 : 0
        var status = MS_OK
        let steps = config.steps ?? []
        let h: OpaquePointer? = config.bundleDir.withCString { (dir) -> OpaquePointer? in
            steps.withUnsafeBufferPointer { (stepsBuf) -> OpaquePointer? in
                opts.bundle_dir = dir
                if config.steps != nil {
                    // A non-NULL pointer even for an empty array, so the library rejects it.
                    opts.steps = stepsBuf.baseAddress ?? MobileSpeech.noIds
                    opts.n_steps = stepsBuf.count
                }
                return ms_synth_create(&opts, &status)
            }
        }
        guard let handle = h else {
            throw MobileSpeechError(status: Int(status.rawValue), message: String(cString: ms_last_error(nil)))
        }
        var l = ms_limits()
        l.struct_size = MemoryLayout<ms_limits>.size
        let st = ms_synth_limits(handle, &l)
        if st != MS_OK {
            let err = MobileSpeechError(status: Int(st.rawValue), message: String(cString: ms_last_error(handle)))
            ms_synth_destroy(handle)
            throw err
        }
        self.handle = handle
        self.limits = Limits(
            sampleRate: Int(l.sample_rate), numCodebooks: Int(l.n_codebooks),
            maxStepsPerLayer: Int(l.max_steps_per_layer), maxChars: Int(l.max_chars),
            maxPhonemes: Int(l.max_phonemes), maxFrames: Int(l.max_frames),
            maxPromptFrames: Int(l.max_prompt_frames), numSymbols: Int(l.n_symbols),
            hasTextFrontend: l.has_text_frontend != 0, numThreads: Int(l.num_threads),
            frameRate: l.frame_rate, minPromptSeconds: l.min_prompt_seconds,
            maxPromptSeconds: l.max_prompt_seconds)
    }

    deinit { close() }

    /// Streams speech for `text` in the voice of `prompt` (nil: the bundle's default voice).
    @discardableResult
    public func synthesize(text: String, prompt: Prompt?, onAudio: AudioCallback) throws -> SynthesisResult {
        try stream(onAudio) { h in
            try Self.withPrompt(prompt) { pcm, frames, rate, channels in
                text.withCString { ms_synth_start(h, $0, pcm, frames, rate, channels, nil) }
            }
        }
    }

    /// Same from phoneme ids (apps with their own G2P): one array per chunk (sentence).
    @discardableResult
    public func synthesizePhonemes(_ chunks: [[Int32]], prompt: Prompt?, onAudio: AudioCallback) throws -> SynthesisResult {
        let ids = chunks.flatMap { $0 }
        let lengths = chunks.map { $0.count }
        return try stream(onAudio) { h in
            try Self.withPrompt(prompt) { pcm, frames, rate, channels in
                ids.withUnsafeBufferPointer { idp in
                    lengths.withUnsafeBufferPointer { lp in
                        ms_synth_start_phonemes(h, idp.baseAddress ?? Self.noIds, lp.baseAddress, lp.count,
                                                pcm, frames, rate, channels, nil)
                    }
                }
            }
        }
    }

    /// The whole utterance at once (`ms_synth_speak`), mono float at `sampleRate`.
    public func speak(text: String, prompt: Prompt?) throws -> [Float] {
        lock.lock(); defer { lock.unlock() }
        let h = try checkOpen()
        var out: UnsafeMutablePointer<Float>?
        var n = 0
        let st = try Self.withPrompt(prompt) { pcm, frames, rate, channels in
            text.withCString { ms_synth_speak(h, $0, pcm, frames, rate, channels, nil, &out, &n) }
        }
        return try take(st, h, out, n)
    }

    /// `speak` from phoneme ids (`ms_synth_speak_phonemes`).
    public func speakPhonemes(_ chunks: [[Int32]], prompt: Prompt?) throws -> [Float] {
        lock.lock(); defer { lock.unlock() }
        let h = try checkOpen()
        let ids = chunks.flatMap { $0 }
        let lengths = chunks.map { $0.count }
        var out: UnsafeMutablePointer<Float>?
        var n = 0
        let st = try Self.withPrompt(prompt) { pcm, frames, rate, channels in
            ids.withUnsafeBufferPointer { idp in
                lengths.withUnsafeBufferPointer { lp in
                    ms_synth_speak_phonemes(h, idp.baseAddress ?? Self.noIds, lp.baseAddress, lp.count,
                                            pcm, frames, rate, channels, nil, &out, &n)
                }
            }
        }
        return try take(st, h, out, n)
    }

    /// Stops the synthesis in progress (any thread); no effect when idle.
    public func cancel() {
        handleLock.lock(); defer { handleLock.unlock() }
        cancelRequested = true
        if let h = handle { _ = ms_synth_cancel(h) }
    }

    /// Timings of the last synthesis as the library measured them.
    public func lastTimings() throws -> Timings {
        lock.lock(); defer { lock.unlock() }
        let h = try checkOpen()
        return Self.readTimings(h)
    }

    /// Phoneme symbol of an id ("AH0", "<sil>", ...), nil when out of range.
    public func symbol(_ id: Int) throws -> String? {
        lock.lock(); defer { lock.unlock() }
        let h = try checkOpen()
        guard let p = ms_synth_symbol(h, Int32(clamping: id)) else { return nil }
        return String(cString: p)
    }

    /// Id of a phoneme symbol, -1 when the bundle has no such symbol.
    public func phonemeId(_ symbol: String) throws -> Int {
        lock.lock(); defer { lock.unlock() }
        if symbolIds == nil {
            let h = try checkOpen()
            var m: [String: Int] = [:]
            for i in 0..<limits.numSymbols {
                if let p = ms_synth_symbol(h, Int32(i)) {
                    let s = String(cString: p)
                    if m[s] == nil { m[s] = i }
                }
            }
            symbolIds = m
        }
        return symbolIds?[symbol] ?? -1
    }

    /// Frees the native handle; safe from any thread and more than once. A synthesis running on
    /// another thread is cancelled and finishes first.
    public func close() {
        handleLock.lock()
        guard let h = handle else { handleLock.unlock(); return }
        cancelRequested = true
        _ = ms_synth_cancel(h)
        handleLock.unlock()
        lock.lock(); defer { lock.unlock() }
        handleLock.lock()
        let current = handle
        handle = nil
        handleLock.unlock()
        if let current = current { ms_synth_destroy(current) }
    }

    // ---- internals ------------------------------------------------------------------------------

    // One-element arrays that stand for "empty but not NULL" (never freed; 8 bytes).
    private static let noIds: UnsafePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()
    private static let noSamples: UnsafePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()

    private func checkOpen() throws -> OpaquePointer {
        handleLock.lock(); defer { handleLock.unlock() }
        guard let h = handle else {
            throw MobileSpeechError(status: MobileSpeechError.invalidArgument, message: "MobileSpeech is closed")
        }
        return h
    }

    private var isCancelRequested: Bool {
        handleLock.lock(); defer { handleLock.unlock() }
        return cancelRequested
    }

    private static func error(_ st: ms_status, _ h: OpaquePointer?) -> MobileSpeechError {
        // MS_ERR_BUSY's message is in ms_last_error(NULL): the handle's belongs to the running call
        var msg = String(cString: ms_last_error(st == MS_ERR_BUSY ? nil : h))
        if msg.isEmpty { msg = String(cString: ms_status_string(st)) }
        return MobileSpeechError(status: Int(st.rawValue), message: msg)
    }

    /// Calls `body` with the prompt as the C ABI takes it (NULL, 0 frames: the default voice).
    private static func withPrompt(
        _ prompt: Prompt?,
        _ body: (UnsafePointer<Float>?, Int, Int32, Int32) -> ms_status
    ) throws -> ms_status {
        guard let p = prompt else { return body(nil, 0, 0, 0) }
        guard p.channels >= 1, p.samples.count % p.channels == 0 else {
            throw MobileSpeechError(
                status: MobileSpeechError.invalidArgument,
                message: "prompt length \(p.samples.count) is not a multiple of channels (\(p.channels))")
        }
        return p.samples.withUnsafeBufferPointer { (buf) -> ms_status in
            // A non-NULL pointer even for an empty prompt: the library then reports "empty".
            let base = buf.baseAddress ?? noSamples
            return body(base, buf.count / p.channels, Int32(clamping: p.sampleRate), Int32(clamping: p.channels))
        }
    }

    private static func readTimings(_ h: OpaquePointer) -> Timings {
        var t = ms_timings()
        t.struct_size = MemoryLayout<ms_timings>.size
        guard ms_synth_timings(h, &t) == MS_OK else { return .empty }
        return Timings(frontendSeconds: t.frontend_s, promptSeconds: t.prompt_s, textSeconds: t.text_s,
                       smdSeconds: t.smd_s, decoderSeconds: t.decoder_s,
                       firstAudioSeconds: t.first_audio_s, audioSeconds: t.audio_s,
                       smdCalls: t.smd_calls, frames: t.frames)
    }

    private func take(_ st: ms_status, _ h: OpaquePointer, _ out: UnsafeMutablePointer<Float>?, _ n: Int) throws -> [Float] {
        guard st == MS_OK else { throw Self.error(st, h) }
        defer { ms_free_audio(out) }
        guard let out = out, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: out, count: n))
    }

    // The pull loop of the C ABI: start, then next until done, handing every chunk to `onAudio`.
    private func stream(_ onAudio: AudioCallback, start: (OpaquePointer) throws -> ms_status) throws -> SynthesisResult {
        lock.lock(); defer { lock.unlock() }
        let h = try checkOpen()
        handleLock.lock(); cancelRequested = false; handleLock.unlock()
        var computeNanos: UInt64 = 0
        var firstAudio = -1.0
        var numSamples = 0
        var numChunks = 0
        var rate = limits.sampleRate
        var cancelled = false
        let t0 = DispatchTime.now().uptimeNanoseconds
        let st = try start(h)
        computeNanos += DispatchTime.now().uptimeNanoseconds - t0
        if st == MS_ERR_CANCELLED {
            cancelled = true
        } else if st != MS_OK {
            throw Self.error(st, h)
        }
        var chunk = ms_audio_chunk()
        while !cancelled {
            if isCancelRequested { cancelled = true; break }
            let t = DispatchTime.now().uptimeNanoseconds
            let s = ms_synth_next(h, &chunk)
            let now = DispatchTime.now().uptimeNanoseconds
            computeNanos += now - t
            if s == MS_DONE { break }
            if s == MS_ERR_CANCELLED { cancelled = true; break }
            if s != MS_OK { throw Self.error(s, h) }
            if firstAudio < 0 { firstAudio = Double(now - t0) / 1e9 }
            numSamples += chunk.n_samples
            rate = Int(chunk.sample_rate)
            let info = ChunkInfo(sampleRate: Int(chunk.sample_rate), sentence: Int(chunk.sentence),
                                 flags: chunk.flags, index: numChunks)
            // Borrowed: valid until the next call on the handle, i.e. for the callback's duration.
            let keepGoing = onAudio(UnsafeBufferPointer(start: chunk.samples, count: chunk.n_samples), info)
            numChunks += 1
            if !keepGoing { cancelled = true; break }
        }
        // close() from inside the callback destroys the handle: no timings to read then.
        let timings = isClosed ? Timings.empty : Self.readTimings(h)
        return SynthesisResult(sampleRate: rate, numSamples: numSamples, numChunks: numChunks,
                               computeSeconds: Double(computeNanos) / 1e9, firstAudioSeconds: firstAudio,
                               isCancelled: cancelled, timings: timings)
    }
}
