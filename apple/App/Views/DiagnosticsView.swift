import Linnet
import SwiftUI

/// The connection, what the server supports (the doctor), and the redacted log to share.
struct DiagnosticsView: View {
    let model: DiagnosticsModel
    @State private var log: LogExport?

    var body: some View {
        Form {
            if let error = model.error {
                Section {
                    Label(error, systemImage: "exclamationmark.triangle.fill")
                        .foregroundStyle(.red)
                }
            }

            Section("Connection") {
                LabeledContent("Status", value: model.connectionText)
            }

            Section {
                Button {
                    Task { await model.runDoctor() }
                } label: {
                    HStack {
                        Text(model.serverFeatures.isEmpty ? "Check the server" : "Check again")
                        if model.running {
                            Spacer()
                            ProgressView()
                                .controlSize(.small)
                        }
                    }
                }
                .disabled(model.running)
                ForEach(model.serverFeatures) { feature in
                    LabeledContent {
                        HStack(spacing: 6) {
                            Text(feature.value)
                                .multilineTextAlignment(.trailing)
                                .textSelection(.enabled)
                            if let ok = feature.ok {
                                Image(systemName: ok ? "checkmark.circle.fill" : "exclamationmark.triangle.fill")
                                    .foregroundStyle(ok ? Color.green : Color.orange)
                            }
                        }
                    } label: {
                        Text(feature.name)
                    }
                }
                if let report = model.doctorJson {
                    ShareLink(item: report, preview: SharePreview("Linnet server check")) {
                        Label("Share the report", systemImage: "square.and.arrow.up")
                    }
                }
            } header: {
                Text("Server")
            } footer: {
                Text("What your server supports and how this connection is secured.")
            }

            Section {
                if let log {
                    ShareLink(item: SharedLogFile(fileName: log.fileName, text: log.text), preview: SharePreview(log.fileName)) {
                        Label("Share \(log.fileName)", systemImage: "square.and.arrow.up")
                    }
                } else {
                    Button("Prepare the log") { log = model.exportLog() }
                }
            } header: {
                Text("Log")
            } footer: {
                Text("The log is redacted before it leaves Linnet: no passwords, no message text. Nothing is sent unless you share it.")
            }

            Section {
                Text(model.version)
                    .foregroundStyle(.secondary)
            }
        }
        .formStyle(.grouped)
        .navigationTitle("Diagnostics")
    }
}
