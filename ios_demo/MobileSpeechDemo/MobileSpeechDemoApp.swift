// MobileSpeechDemo - SwiftUI demo of the MobileSpeech SDK: type text, record or pick a few
// seconds of a voice, speak it in that voice while it streams into AVAudioEngine, and read the
// real-time factor and the time to first audio.
import SwiftUI

@main
struct MobileSpeechDemoApp: App {
    @StateObject private var model = DemoModel()

    var body: some Scene {
        WindowGroup {
            ContentView(model: model)
        }
    }
}
