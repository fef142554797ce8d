// ContentView - one screen: text, voice (record / pick / default), threads, speak / stop, figures.
import SwiftUI
import UniformTypeIdentifiers

struct ContentView: View {
    @ObservedObject var model: DemoModel
    @State private var picking = false

    var body: some View {
        NavigationStack {
            Form {
                Section("Text") {
                    TextEditor(text: $model.text)
                        .frame(minHeight: 100)
                }
                Section("Voice") {
                    Text(model.promptLabel).font(.footnote)
                    HStack {
                        Button(model.isRecording ? "Recording…" : "Record 5 s") { model.record() }
                            .disabled(model.isRecording)
                        Spacer()
                        Button("Pick a file…") { picking = true }
                        Spacer()
                        Button("Default") { model.useDefaultVoice() }
                    }
                    .buttonStyle(.borderless)
                }
                Section("Settings") {
                    Stepper("Threads: \(model.threads)", value: $model.threads, in: 1...8)
                }
                Section {
                    HStack {
                        Button("Speak") { model.speak() }
                            .disabled(model.isSpeaking || model.bundleURL() == nil)
                        Spacer()
                        Button("Stop", role: .destructive) { model.stop() }
                    }
                    .buttonStyle(.borderless)
                }
                Section("Figures (this phone)") {
                    LabeledContent("Real-time factor", value: model.rtfText)
                    LabeledContent("Time to first audio", value: model.firstAudioText)
                    if !model.detailText.isEmpty {
                        Text(model.detailText).font(.caption.monospacedDigit())
                    }
                }
                Section {
                    Text(model.status).font(.footnote).foregroundStyle(.secondary)
                    Text("MobileSpeech \(MobileSpeech.version)").font(.caption2).foregroundStyle(.secondary)
                }
            }
            .navigationTitle("MobileSpeech")
            .fileImporter(isPresented: $picking, allowedContentTypes: [.audio]) { result in
                model.pick(result)
            }
        }
    }
}
