import Linnet
import SwiftUI
import UniformTypeIdentifiers

/// Address and password, an optional advanced section (server host and port, direct TLS, a
/// private certificate authority), and the reason a sign-in failed (SignInError.message).
struct SignInView: View {
    @Bindable var model: SignInModel
    /// Shown above the form, e.g. why the last sign-out was incomplete.
    var notice: String?

    @State private var showAdvanced = false
    @State private var pickingCertificate = false

    var body: some View {
        NavigationStack {
            Form {
                if let notice {
                    Section {
                        Label(notice, systemImage: "info.circle")
                    }
                }
                Section {
                    TextField("Address", text: $model.address, prompt: Text("name@example.org"))
                        .accountAddressInput()
                        .disabled(model.busy)
                    SecureField("Password", text: $model.password)
                        .accountPasswordInput()
                        .disabled(model.busy)
                        .onSubmit { signIn() }
                } header: {
                    Text("Your account")
                } footer: {
                    Text("Sign in with an existing XMPP account. Your password stays in the keychain on this device.")
                }

                Section {
                    DisclosureGroup("Advanced", isExpanded: $showAdvanced) {
                        TextField("Server host", text: $model.serverHost, prompt: Text("Automatic"))
                            .serverHostInput()
                        TextField("Port", text: $model.serverPort, prompt: Text("Automatic"))
                            .portInput()
                        Toggle("Direct TLS (usually port 5223)", isOn: $model.directTls)
                        if model.extraCaPem != nil {
                            HStack {
                                Label("Certificate authority added", systemImage: "checkmark.seal")
                                Spacer()
                                Button("Remove", role: .destructive) { model.extraCaPem = nil }
                            }
                        } else {
                            Button("Trust a certificate authority (PEM)…") { pickingCertificate = true }
                        }
                    }
                    .disabled(model.busy)
                }

                if let error = model.error {
                    Section {
                        Label(error.message, systemImage: "exclamationmark.triangle.fill")
                            .foregroundStyle(.red)
                    }
                }

                Section {
                    Button(action: signIn) {
                        HStack {
                            Text("Sign in")
                            if model.busy {
                                Spacer()
                                ProgressView()
                            }
                        }
                    }
                    .disabled(!model.canSignIn)
                    .keyboardShortcut(.defaultAction)
                }
            }
            .formStyle(.grouped)
            .navigationTitle("Linnet")
            .fileImporter(
                isPresented: $pickingCertificate,
                allowedContentTypes: [.x509Certificate, .plainText, .data]
            ) { result in
                if case .success(let url) = result {
                    model.extraCaPem = AttachmentInbox.readText(url)
                }
            }
        }
    }

    private func signIn() {
        guard model.canSignIn else { return }
        Task { await model.signIn() }
    }
}

private extension View {
    func accountAddressInput() -> some View {
        #if os(iOS)
        self.textContentType(.username)
            .keyboardType(.emailAddress)
            .textInputAutocapitalization(.never)
            .autocorrectionDisabled()
        #else
        self.textContentType(.username)
            .autocorrectionDisabled()
        #endif
    }

    func accountPasswordInput() -> some View {
        self.textContentType(.password)
    }

    func serverHostInput() -> some View {
        #if os(iOS)
        self.keyboardType(.URL)
            .textInputAutocapitalization(.never)
            .autocorrectionDisabled()
        #else
        self.autocorrectionDisabled()
        #endif
    }

    func portInput() -> some View {
        #if os(iOS)
        self.keyboardType(.numberPad)
        #else
        self
        #endif
    }
}
