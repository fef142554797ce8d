// PromptAudio - a prompt voice from a file (anything AVAudioFile reads: wav, caf, m4a, mp3, aiff)
// or from the microphone (AVAudioRecorder, 16 kHz mono PCM, a few seconds).
import AVFoundation

enum PromptAudio {
    /// Reads a whole file as interleaved float at its own rate; the library mixes and resamples.
    static func read(url: URL) throws -> MobileSpeech.Prompt {
        let file = try AVAudioFile(forReading: url)  // processingFormat: float32, deinterleaved
        let format = file.processingFormat
        let frames = AVAudioFrameCount(file.length)
        guard frames > 0, let buf = AVAudioPCMBuffer(pcmFormat: format, frameCapacity: frames) else {
            throw NSError(domain: "PromptAudio", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "the file has no audio"])
        }
        try file.read(into: buf)
        let channels = Int(format.channelCount)
        let n = Int(buf.frameLength)
        var out = [Float](repeating: 0, count: n * channels)
        if let data = buf.floatChannelData {
            for c in 0..<channels {
                let src = data[c]
                for i in 0..<n { out[i * channels + c] = src[i] }
            }
        }
        return MobileSpeech.Prompt(samples: out, sampleRate: Int(format.sampleRate), channels: channels)
    }
}

/// Records `seconds` of microphone audio to a temporary WAV file, then reads it back.
final class PromptRecorder: NSObject, AVAudioRecorderDelegate {
    private var recorder: AVAudioRecorder?
    private var completion: ((Result<MobileSpeech.Prompt, Error>) -> Void)?
    private let url = FileManager.default.temporaryDirectory.appendingPathComponent("prompt.wav")

    func record(seconds: TimeInterval, completion: @escaping (Result<MobileSpeech.Prompt, Error>) -> Void) {
        AVAudioApplication.requestRecordPermission { granted in
            DispatchQueue.main.async {
                guard granted else {
                    completion(.failure(NSError(domain: "PromptRecorder", code: 1, userInfo: [
                        NSLocalizedDescriptionKey: "microphone permission denied (Settings > Privacy > Microphone)"])))
                    return
                }
                do {
                    let settings: [String: Any] = [
                        AVFormatIDKey: kAudioFormatLinearPCM,
                        AVSampleRateKey: 16_000.0,
                        AVNumberOfChannelsKey: 1,
                        AVLinearPCMBitDepthKey: 16,
                        AVLinearPCMIsFloatKey: false,
                        AVLinearPCMIsBigEndianKey: false,
                    ]
                    let r = try AVAudioRecorder(url: self.url, settings: settings)
                    r.delegate = self
                    self.recorder = r
                    self.completion = completion
                    if !r.record(forDuration: seconds) {
                        throw NSError(domain: "PromptRecorder", code: 2,
                                      userInfo: [NSLocalizedDescriptionKey: "could not start recording"])
                    }
                } catch {
                    completion(.failure(error))
                }
            }
        }
    }

    func audioRecorderDidFinishRecording(_ recorder: AVAudioRecorder, successfully flag: Bool) {
        let done = completion
        completion = nil
        self.recorder = nil
        guard flag else {
            done?(.failure(NSError(domain: "PromptRecorder", code: 3,
                                   userInfo: [NSLocalizedDescriptionKey: "recording failed"])))
            return
        }
        done?(Result(catching: { try PromptAudio.read(url: self.url) }))
    }
}
