import Foundation
import Linnet
import Observation

/// One line of the server check: "Message archive: Yes".
public struct FeatureRow: Identifiable, Equatable, Sendable {
    public var id: String { name }
    public let name: String
    public let value: String
    /// Whether this is good (true), a problem (false), or just information (nil).
    public let ok: Bool?
}

/// The redacted log, ready for the share sheet.
public struct LogExport: Equatable, Sendable {
    public let fileName: String
    public let text: String
}

@MainActor @Observable
public final class DiagnosticsModel {
    /// "Online", "Connecting…", "Offline", "Disconnected: …".
    public private(set) var connectionText = ""
    public private(set) var serverFeatures: [FeatureRow] = []
    /// The whole report as JSON (for a bug report), after `runDoctor`.
    public private(set) var doctorJson: String?
    public private(set) var running = false
    public private(set) var error: String?
    /// "Linnet 0.1.0".
    public let version: String

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let tasks = ModelTasks()

    public init(client: LinnetClient) {
        self.client = client
        version = "Linnet \(linnetVersion())"
        connectionText = Self.connectionText(client.connection().state())
        do {
            let states = try client.connection().states()
            tasks.add(Task { [weak self] in
                for await state in states { self?.connectionText = Self.connectionText(state) }
            })
        } catch {
            self.error = Texts.error(error)
        }
    }

    public func close() {
        tasks.cancelAll()
    }

    /// Asks the server what it supports and how this connection is set up.
    public func runDoctor() async {
        guard !running else { return }
        running = true
        defer { running = false }
        do {
            let report = try await client.diagnostics().doctor()
            serverFeatures = Self.rows(report)
            doctorJson = report.json
            error = nil
        } catch {
            self.error = "The check could not run. " + Texts.error(error)
        }
    }

    /// The recent log, already redacted by the SDK (no passwords, no message text).
    public func exportLog(now: Date = Date()) -> LogExport {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return LogExport(fileName: "linnet-log-\(formatter.string(from: now)).txt", text: client.diagnostics().exportLogs())
    }

    nonisolated static func connectionText(_ state: ConnectionState) -> String {
        switch state {
        case .online: return "Online"
        case .connecting: return "Connecting…"
        case .offline: return "Offline"
        case .disconnected(let reason, _): return reason.isEmpty ? "Disconnected" : "Disconnected: \(reason)"
        }
    }

    nonisolated static func rows(_ report: DoctorReport) -> [FeatureRow] {
        let yesNo = { (on: Bool) in on ? "Yes" : "No" }
        var rows = [
            FeatureRow(name: "Signed in as", value: report.boundJid, ok: nil),
            FeatureRow(name: "Server", value: report.server, ok: nil),
            FeatureRow(name: "Connection", value: report.connection, ok: nil),
            FeatureRow(name: "Encryption", value: "\(report.tlsVersion), \(report.tlsCipher)", ok: nil),
            FeatureRow(name: "Sign-in method", value: report.saslChosen, ok: nil),
            FeatureRow(name: "Channel binding", value: report.channelBinding ?? "None", ok: report.channelBinding != nil),
            FeatureRow(name: "Stream management", value: report.streamManagement, ok: nil),
            FeatureRow(name: "Sessions", value: report.sessions, ok: nil),
            FeatureRow(name: "History sync", value: report.archiveSync, ok: nil),
            FeatureRow(name: "Message archive", value: yesNo(report.mam), ok: report.mam),
            FeatureRow(name: "Message copies to all devices", value: yesNo(report.carbons), ok: report.carbons),
            FeatureRow(name: "Battery saving (CSI)", value: yesNo(report.csi), ok: report.csi),
            FeatureRow(name: "Push notifications", value: yesNo(report.push), ok: report.push),
            FeatureRow(name: "Call relays (STUN/TURN)", value: yesNo(report.externalServices), ok: report.externalServices),
        ]
        if let service = report.uploadService {
            let limit = report.uploadMaxFileSize.map { ", max \(Texts.size($0))" } ?? ""
            rows.append(FeatureRow(name: "File sharing", value: service + limit, ok: true))
        } else {
            rows.append(FeatureRow(name: "File sharing", value: "Not offered", ok: false))
        }
        if let gap = report.historyGapSince {
            let date = Texts.date(unixMs: gap)
            rows.append(FeatureRow(name: "Messages may be missing since", value: Texts.dateTime(date), ok: false))
        }
        rows.append(FeatureRow(name: "Server features", value: "\(report.serverFeatures.count)", ok: nil))
        return rows
    }
}
