// Files crossing the app's sandbox: attachments picked with .fileImporter are copied into the
// app's own storage before the SDK uploads them (the picker's security-scoped URL is only valid
// for a moment), and the redacted log is shared as a text file.
import CoreTransferable
import Foundation
import UniformTypeIdentifiers

enum AttachmentInbox {
    /// Copies a picked file into Application Support/Outgoing/<random>/<its name>; returns the path
    /// for ConversationModel.sendFile, or nil when it cannot be read.
    static func copy(_ url: URL) -> String? {
        let scoped = url.startAccessingSecurityScopedResource()
        defer {
            if scoped { url.stopAccessingSecurityScopedResource() }
        }
        let fileManager = FileManager.default
        do {
            let base = try fileManager.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            let folder = base.appendingPathComponent("Outgoing", isDirectory: true)
                .appendingPathComponent(UUID().uuidString, isDirectory: true)
            try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
            let target = folder.appendingPathComponent(url.lastPathComponent)
            try fileManager.copyItem(at: url, to: target)
            return target.path
        } catch {
            return nil
        }
    }

    /// Reads a small text file the user picked (a certificate authority in PEM).
    static func readText(_ url: URL) -> String? {
        let scoped = url.startAccessingSecurityScopedResource()
        defer {
            if scoped { url.stopAccessingSecurityScopedResource() }
        }
        return try? String(contentsOf: url, encoding: .utf8)
    }
}

/// The redacted log for ShareLink: written to a temporary file named as the model says.
struct SharedLogFile: Transferable {
    let fileName: String
    let text: String

    static var transferRepresentation: some TransferRepresentation {
        FileRepresentation(exportedContentType: .plainText) { log in
            let url = FileManager.default.temporaryDirectory.appendingPathComponent(log.fileName)
            try log.text.write(to: url, atomically: true, encoding: .utf8)
            return SentTransferredFile(url)
        }
    }
}
