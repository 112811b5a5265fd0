// The Linnet app (iOS and macOS). The presentation layer (Presentation/) holds the state and every
// user-facing sentence; Views/ render it; Platform/ connects Apple's services to its ports.
import Linnet
import SwiftUI

@main
struct LinnetApp: App {
    #if os(iOS)
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    #else
    @NSApplicationDelegateAdaptor(AppDelegate.self) private var appDelegate
    #endif

    @Environment(\.scenePhase) private var scenePhase
    @State private var app: AppModel
    private let platform: AppPlatform

    init() {
        let platform = AppPlatform.shared
        let dataDir: String
        do {
            dataDir = try LinnetShared.dataDirectory().path
        } catch {
            // No storage (should not happen): a path that cannot be created, so that AppModel shows
            // its "cannot start" screen instead of keeping messages somewhere temporary.
            dataDir = "/dev/null/linnet"
        }
        let app = AppModel(
            dataDir: dataDir,
            secrets: KeychainSecretStorage(),
            ports: platform.ports,
            appServer: LinnetShared.pushAppServer)
        platform.attach(app)
        self.platform = platform
        _app = State(initialValue: app)
    }

    var body: some Scene {
        WindowGroup {
            RootView(app: app, platform: platform)
                .task { await app.start() }
        }
        .onChange(of: scenePhase, initial: true) { _, phase in
            // Client state indication: in the background the server holds back what can wait.
            // (Inactive, e.g. Control Center pulled down, still counts as the foreground.)
            app.setForeground(phase != .background)
        }
    }
}
