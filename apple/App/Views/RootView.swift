// The top of the view tree: sign-in, the signed-in main screen, or why Linnet cannot start.
// Views only render the presentation models (apple/App/Presentation) and call their actions.
import Linnet
import SwiftUI

struct RootView: View {
    let app: AppModel
    let platform: AppPlatform

    var body: some View {
        switch app.screen {
        case .signIn:
            SignInScreen(app: app)
        case .main(let jid):
            MainView(app: app, platform: platform)
                .id(jid)
        case .unavailable(let message):
            ContentUnavailableView {
                Label("Linnet cannot start", systemImage: "exclamationmark.triangle")
            } description: {
                Text(message)
            }
        }
    }
}

/// Holds the sign-in model while the sign-in screen shows.
struct SignInScreen: View {
    let app: AppModel
    @State private var model: SignInModel?

    var body: some View {
        Group {
            if let model {
                SignInView(model: model, notice: app.signOutError)
            } else {
                ProgressView()
            }
        }
        .onAppear {
            if model == nil { model = app.makeSignInModel() }
        }
    }
}

/// The signed-in app: chats, contacts, calls, settings; the call screen over everything.
struct MainView: View {
    let app: AppModel
    let platform: AppPlatform

    @State private var tab = MainTab.chats
    @State private var openChat: String?
    @State private var chats: ChatListModel?
    @State private var contacts: ContactsModel?

    var body: some View {
        TabView(selection: $tab) {
            Group {
                if let chats {
                    ChatsTab(app: app, model: chats, selection: $openChat)
                } else {
                    ProgressView()
                }
            }
            .tabItem { Label("Chats", systemImage: "bubble.left.and.bubble.right") }
            .badge(chats?.totalUnread ?? 0)
            .tag(MainTab.chats)

            Group {
                if let contacts {
                    NavigationStack {
                        ContactsView(model: contacts) { peer in
                            openChat = peer
                            tab = .chats
                        }
                    }
                } else {
                    ProgressView()
                }
            }
            .tabItem { Label("Contacts", systemImage: "person.2") }
            .badge(contacts?.requests.count ?? 0)
            .tag(MainTab.contacts)

            Group {
                if let calls = app.calls {
                    NavigationStack {
                        CallsView(model: calls)
                    }
                } else {
                    ProgressView()
                }
            }
            .tabItem { Label("Calls", systemImage: "phone") }
            .tag(MainTab.calls)

            SettingsScreen(app: app)
                .tabItem { Label("Settings", systemImage: "gearshape") }
                .tag(MainTab.settings)
        }
        .onAppear {
            if chats == nil { chats = app.makeChatListModel() }
            if contacts == nil { contacts = app.makeContactsModel() }
        }
        .onDisappear {
            chats?.close()
            contacts?.close()
        }
        .onChange(of: chats?.totalUnread ?? 0) { _, unread in
            AppBadge.show(unread)
        }
        .onChange(of: platform.router.pendingConversation, initial: true) { _, peer in
            // A tapped notification opens its conversation.
            guard let peer else { return }
            tab = .chats
            openChat = peer
            platform.router.pendingConversation = nil
        }
        .modifier(CallPresenter(calls: app.calls, platform: platform))
    }
}

enum MainTab: Hashable {
    case chats
    case contacts
    case calls
    case settings
}

/// Shows the call screen whenever CallModel has a call (incoming, outgoing or just ended).
struct CallPresenter: ViewModifier {
    let calls: CallModel?
    let platform: AppPlatform

    func body(content: Content) -> some View {
        let active = calls?.call != nil
        let shown = Binding(get: { active }, set: { if !$0 { calls?.dismiss() } })
        #if os(iOS)
        content.fullScreenCover(isPresented: shown) {
            if let calls {
                CallView(
                    model: calls,
                    answer: {
                        if let id = calls.call?.id, platform.callKit.requestAnswer(callId: id) { return }
                        calls.answer()
                    },
                    toggleMute: {
                        if let call = calls.call, platform.callKit.requestMute(callId: call.id, muted: !call.muted) { return }
                        calls.toggleMute()
                    })
            }
        }
        #else
        content.sheet(isPresented: shown) {
            if let calls {
                CallView(model: calls)
                    .frame(minWidth: 360, minHeight: 560)
            }
        }
        #endif
    }
}
