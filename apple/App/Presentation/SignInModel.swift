import Foundation
import Linnet
import Observation

/// Why signing in failed, with the sentence to show.
public struct SignInError: Error, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case invalidAddress
        case wrongPassword
        case serverUnreachable
        case certificateProblem
        /// The TLS handshake failed (not the certificate): an old server, a proxy in the way.
        case secureConnectionFailed
        case serverError
        case timeout
        case alreadySignedIn
        case other
    }

    public let kind: Kind
    public let message: String
}

/// The sign-in form. The advanced fields are optional: empty means automatic (DNS SRV records of
/// the address's domain, the system's trusted certificates).
@MainActor @Observable
public final class SignInModel {
    public var address = ""
    public var password = ""
    /// Advanced: the server's host name, when it differs from the address's domain.
    public var serverHost = ""
    /// Advanced: the port, as typed ("" = default).
    public var serverPort = ""
    /// Advanced: TLS from the first byte (usually port 5223) instead of STARTTLS.
    public var directTls = false
    /// Advanced: an extra certificate authority (PEM) to trust, for a server with a private CA.
    public var extraCaPem: String?

    public private(set) var busy = false
    public private(set) var error: SignInError?

    @ObservationIgnored private let sdk: LinnetSdk
    @ObservationIgnored private let onSignedIn: @MainActor (String) -> Void

    public init(sdk: LinnetSdk, onSignedIn: @escaping @MainActor (String) -> Void) {
        self.sdk = sdk
        self.onSignedIn = onSignedIn
    }

    public var canSignIn: Bool {
        !busy && !address.trimmingCharacters(in: .whitespaces).isEmpty && !password.isEmpty
    }

    /// Adds the account and connects once. On failure the account is removed again (nothing half
    /// signed-in stays behind) and `error` says why. Returns whether it succeeded.
    @discardableResult
    public func signIn() async -> Bool {
        guard !busy else { return false }
        error = nil
        let jid = address.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.looksLikeAddress(jid) else {
            error = SignInError(kind: .invalidAddress, message: "Enter your address as name@example.org.")
            return false
        }
        guard !password.isEmpty else {
            error = SignInError(kind: .wrongPassword, message: "Enter your password.")
            return false
        }
        let options: AccountOptions
        switch accountOptions() {
        case .success(let value): options = value
        case .failure(let problem):
            error = problem
            return false
        }
        busy = true
        defer { busy = false }

        let account: AccountInfo
        do {
            if let existing = try sdk.accounts().first {
                error = SignInError(kind: .alreadySignedIn, message: "\(existing.jid) is already signed in on this device. Sign out first.")
                return false
            }
            account = try sdk.addAccount(jid: jid, password: password, options: options)
        } catch let accountError as AccountError {
            error = Self.signInError(accountError)
            return false
        } catch {
            self.error = SignInError(kind: .other, message: Texts.error(error))
            return false
        }

        do {
            try await sdk.client(jid: account.jid).connection().start()
        } catch {
            // The connection keeps retrying after a failed first attempt: stop it, then remove the
            // account with its stored password.
            if let client = try? sdk.client(jid: account.jid) { await client.connection().stop() }
            try? sdk.removeAccount(jid: account.jid)
            self.error = Self.signInError(error)
            return false
        }
        password = ""
        onSignedIn(account.jid)
        return true
    }

    private func accountOptions() -> Result<AccountOptions, SignInError> {
        let host = serverHost.trimmingCharacters(in: .whitespacesAndNewlines)
        let portText = serverPort.trimmingCharacters(in: .whitespacesAndNewlines)
        var port: UInt16?
        if !portText.isEmpty {
            guard let value = UInt16(portText), value > 0 else {
                return .failure(SignInError(kind: .invalidAddress, message: "The port must be a number from 1 to 65535."))
            }
            port = value
        }
        let pem = extraCaPem?.trimmingCharacters(in: .whitespacesAndNewlines)
        return .success(AccountOptions(
            serverHost: host.isEmpty ? nil : host, serverPort: port, directTls: directTls,
            extraCaPem: (pem?.isEmpty ?? true) ? nil : pem))
    }

    /// name@domain with no spaces; the SDK checks the rest (and its error is mapped too).
    nonisolated static func looksLikeAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !text.contains(where: { $0.isWhitespace })
    }

    nonisolated static func signInError(_ error: any Error) -> SignInError {
        switch error {
        case let error as ConnectError:
            switch error {
            case .WrongCredentials, .NoPassword:
                return SignInError(kind: .wrongPassword, message: "The address or password is wrong.")
            case .AuthFailed:
                return SignInError(kind: .serverError, message: "The server did not offer a secure way to sign in.")
            case .Certificate:
                return SignInError(kind: .certificateProblem, message: "The server's certificate is not trusted, so the connection may not be private. Check the server name, or add its certificate authority in Advanced.")
            case .Tls:
                return SignInError(kind: .secureConnectionFailed, message: "A secure connection to the server could not be made.")
            case .Network:
                return SignInError(kind: .serverUnreachable, message: "The server cannot be reached. Check the address and your internet connection.")
            case .Server:
                return SignInError(kind: .serverError, message: "The server had a problem. Please try again later.")
            case .Timeout:
                return SignInError(kind: .timeout, message: "The server did not answer in time. Please try again.")
            case .Storage, .Internal:
                return SignInError(kind: .other, message: Texts.connect(error))
            }
        case let error as AccountError:
            switch error {
            case .InvalidAddress:
                return SignInError(kind: .invalidAddress, message: "Enter your address as name@example.org.")
            case .AccountExists(let jid):
                return SignInError(kind: .alreadySignedIn, message: "\(jid) is already signed in on this device.")
            default:
                return SignInError(kind: .other, message: Texts.account(error))
            }
        default:
            return SignInError(kind: .other, message: Texts.error(error))
        }
    }
}
