// StreamPlayer - plays float chunks as they arrive: an AVAudioPlayerNode in an AVAudioEngine,
// one AVAudioPCMBuffer scheduled per chunk (scheduled buffers play back to back, so the first
// chunk is heard while the next ones are still being synthesized).
import AVFoundation

final class StreamPlayer {
    private let engine = AVAudioEngine()
    private let player = AVAudioPlayerNode()
    private let lock = NSLock()
    private var format: AVAudioFormat?
    private var scheduled = 0
    private var played = 0

    /// Connects the player for mono float at `sampleRate` (the mixer converts to the device
    /// rate) and starts the engine. Call before the first enqueue of an utterance.
    func start(sampleRate: Int) throws {
        lock.lock(); defer { lock.unlock() }
        if format?.sampleRate != Double(sampleRate) {
            if engine.isRunning { engine.stop() }
            if format == nil { engine.attach(player) } else { engine.disconnectNodeOutput(player) }
            guard let f = AVAudioFormat(standardFormatWithSampleRate: Double(sampleRate), channels: 1) else {
                throw NSError(domain: "StreamPlayer", code: 1,
                              userInfo: [NSLocalizedDescriptionKey: "bad sample rate \(sampleRate)"])
            }
            engine.connect(player, to: engine.mainMixerNode, format: f)
            format = f
        }
        if !engine.isRunning {
            engine.prepare()
            try engine.start()
        }
        player.play()
    }

    /// Copies the borrowed samples into a new buffer and schedules it after those queued.
    func enqueue(_ samples: UnsafeBufferPointer<Float>) {
        lock.lock(); defer { lock.unlock() }
        guard let f = format, let src = samples.baseAddress, samples.count > 0,
              let buf = AVAudioPCMBuffer(pcmFormat: f, frameCapacity: AVAudioFrameCount(samples.count)),
              let dst = buf.floatChannelData?[0] else { return }
        buf.frameLength = AVAudioFrameCount(samples.count)
        dst.update(from: src, count: samples.count)
        scheduled += 1
        player.scheduleBuffer(buf) { [weak self] in
            guard let self = self else { return }
            self.lock.lock(); self.played += 1; self.lock.unlock()
        }
    }

    /// True while scheduled audio has not finished playing.
    var isPlaying: Bool {
        lock.lock(); defer { lock.unlock() }
        return played < scheduled
    }

    /// Stops playback at once and drops what was scheduled.
    func stop() {
        lock.lock(); defer { lock.unlock() }
        player.stop()
        played = scheduled
    }
}
