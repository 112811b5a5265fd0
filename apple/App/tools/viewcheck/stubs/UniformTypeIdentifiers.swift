// UniformTypeIdentifiers, declarations only, for apple/App/tools/viewcheck/check.sh.
import Foundation

public struct UTType: Hashable, Sendable, CustomStringConvertible {
    public init?(_ identifier: String) {}
    public init?(filenameExtension: String) {}
    public var identifier: String { "" }
    public var preferredMIMEType: String? { nil }
    public var description: String { identifier }
    public func conforms(to type: UTType) -> Bool { false }

    public static var item: UTType { fatalError() }
    public static var content: UTType { fatalError() }
    public static var data: UTType { fatalError() }
    public static var text: UTType { fatalError() }
    public static var plainText: UTType { fatalError() }
    public static var utf8PlainText: UTType { fatalError() }
    public static var image: UTType { fatalError() }
    public static var pdf: UTType { fatalError() }
    public static var json: UTType { fatalError() }
    public static var x509Certificate: UTType { fatalError() }
    public static var fileURL: UTType { fatalError() }
    public static var url: UTType { fatalError() }
}
