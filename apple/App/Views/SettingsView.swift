import Linnet
import SwiftUI

/// Holds the settings model while the Settings tab shows.
struct SettingsScreen: View {
    let app: AppModel
    @State private var model: SettingsModel?

    var body: some View {
        NavigationStack {
            Group {
                if let model {
                    SettingsView(model: model, app: app)
                } else {
                    ProgressView()
                }
            }
        }
        .onAppear {
            if model == nil { model = app.makeSettingsModel() }
        }
    }
}

/// Notifications (asking the system's permission first), message privacy, relay-only calls, the
/// automatic download policy, About, and signing out.
struct SettingsView: View {
    let model: SettingsModel
    let app: AppModel

    @Environment(\.scenePhase) private var scenePhase
    @Environment(\.openURL) private var openURL
    @State private var confirmingSignOut = false

    var body: some View {
        let notifications = model.notifications
        Form {
            if let error = model.error {
                Section {
                    ErrorBanner(text: error, dismiss: model.dismissError)
                }
            }

            Section {
                Toggle(isOn: modelBinding(notifications == .on || notifications == .asking, setNotifications)) {
                    HStack {
                        Text("Notifications")
                        if notifications == .asking {
                            Spacer()
                            ProgressView()
                                .controlSize(.small)
                        }
                    }
                }
                .disabled(notifications == .asking)
                Text(model.pushStatusText)
                    .font(.caption)
                    .foregroundStyle(.secondary)
                if notifications == .denied, let url = SystemSettings.notificationsURL {
                    Button("Open system settings") { openURL(url) }
                }
                Picker("Show in notifications", selection: modelBinding(model.notificationPreview, model.setNotificationPreview)) {
                    ForEach(NotificationPreview.allCases, id: \.self) { preview in
                        Text(preview.title).tag(preview)
                    }
                }
            } header: {
                Text("Notifications")
            } footer: {
                Text("Linnet asks for permission first. Nothing is registered with a notification server until you allow it.")
            }

            Section {
                Toggle("Send typing notifications", isOn: modelBinding(model.sendTyping, model.setSendTyping))
                Toggle("Send read receipts", isOn: modelBinding(model.sendReadMarkers, model.setSendReadMarkers))
            } header: {
                Text("Privacy")
            }

            Section {
                Toggle("Relay-only calls", isOn: modelBinding(model.relayOnlyCalls, model.setRelayOnlyCalls))
            } header: {
                Text("Calls")
            } footer: {
                Text("Calls go through your server's relay, so the other side does not learn your network address. The sound may be slightly delayed.")
            }

            Section {
                Picker("Download automatically", selection: modelBinding(model.downloadPolicy, model.setDownloadPolicy)) {
                    ForEach(DownloadPolicy.allCases, id: \.self) { policy in
                        Text(policy.title).tag(policy)
                    }
                }
            } header: {
                Text("Files")
            }

            Section {
                NavigationLink("About Linnet") {
                    AboutView(app: app)
                }
            }

            Section {
                Button("Sign out", role: .destructive) { confirmingSignOut = true }
            }
        }
        .formStyle(.grouped)
        .navigationTitle("Settings")
        .confirmationDialog("Sign out of Linnet?", isPresented: $confirmingSignOut) {
            Button("Sign out", role: .destructive) {
                Task { await app.signOut() }
            }
        } message: {
            Text("Your messages on this device are deleted. They stay on your server as far as it keeps them.")
        }
        .task { await model.refreshNotifications() }
        .onChange(of: scenePhase) { _, phase in
            // Back from the system settings: a permission withdrawn there turns notifications off.
            if phase == .active {
                Task { await model.refreshNotifications() }
            }
        }
    }

    private func setNotifications(_ on: Bool) {
        Task {
            if on {
                await model.enableNotifications()
            } else {
                await model.disableNotifications()
            }
        }
    }
}
