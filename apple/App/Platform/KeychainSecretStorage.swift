// The SDK's SecretStorage (account passwords) in the keychain, shared by the app and its
// Notification Service Extension through a keychain access group. Compiled into both targets.
import Foundation
import Linnet
import Security

final class KeychainSecretStorage: SecretStorage, @unchecked Sendable {
    private let service = "org.linnet.account-password"
    private let accessGroup: String?

    init(accessGroup: String? = LinnetShared.keychainAccessGroup) {
        self.accessGroup = accessGroup
    }

    func get(account: String) throws -> String? {
        var query = baseQuery(account: account)
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let data = result as? Data, let secret = String(data: data, encoding: .utf8) else {
                throw SecretStorageError.Unavailable(reason: "the keychain item is not readable text")
            }
            return secret
        case errSecItemNotFound:
            return nil
        default:
            throw Self.failure("read", status)
        }
    }

    func set(account: String, secret: String) throws {
        let data = Data(secret.utf8)
        let query = baseQuery(account: account)
        let changes: [String: Any] = [
            kSecValueData as String: data,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        let status = SecItemUpdate(query as CFDictionary, changes as CFDictionary)
        if status == errSecItemNotFound {
            var item = query
            item.merge(changes) { _, new in new }
            let added = SecItemAdd(item as CFDictionary, nil)
            guard added == errSecSuccess else { throw Self.failure("store", added) }
        } else if status != errSecSuccess {
            throw Self.failure("update", status)
        }
    }

    func delete(account: String) throws {
        let status = SecItemDelete(baseQuery(account: account) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw Self.failure("delete", status)
        }
    }

    private func baseQuery(account: String) -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            // The modern keychain on macOS too (access groups, no legacy file keychain prompts).
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup {
            query[kSecAttrAccessGroup as String] = accessGroup
        }
        return query
    }

    private static func failure(_ action: String, _ status: OSStatus) -> SecretStorageError {
        let message = (SecCopyErrorMessageString(status, nil) as String?) ?? "status \(status)"
        return SecretStorageError.Unavailable(reason: "keychain \(action) failed: \(message)")
    }
}
