import Linnet
import SwiftUI

/// Version, the privacy promise, and the way to the diagnostics.
struct AboutView: View {
    let app: AppModel

    var body: some View {
        Form {
            Section {
                VStack(spacing: 6) {
                    Text("Linnet")
                        .font(.largeTitle.weight(.semibold))
                    Text("Version \(SystemSettings.appVersion)")
                        .foregroundStyle(.secondary)
                    Text("Linnet core \(linnetVersion())")
                        .font(.caption)
                        .foregroundStyle(.secondary)
                }
                .frame(maxWidth: .infinity)
                .padding(.vertical, 8)
            }
            Section {
                Label("No analytics, no tracking.", systemImage: "hand.raised.fill")
                Text("Linnet talks only to your own XMPP server, to the notification server when you turn notifications on, and to the people you message or call. Diagnostics stay on this device unless you share them.")
                    .font(.callout)
                    .foregroundStyle(.secondary)
            } header: {
                Text("Privacy")
            }
            Section {
                NavigationLink("Diagnostics") {
                    DiagnosticsScreen(app: app)
                }
            }
        }
        .formStyle(.grouped)
        .navigationTitle("About")
    }
}

/// Holds the diagnostics model while the screen shows.
struct DiagnosticsScreen: View {
    let app: AppModel
    @State private var model: DiagnosticsModel?

    var body: some View {
        Group {
            if let model {
                DiagnosticsView(model: model)
            } else {
                ProgressView()
            }
        }
        .onAppear {
            if model == nil { model = app.makeDiagnosticsModel() }
        }
        .onDisappear {
            model?.close()
            model = nil
        }
    }
}
