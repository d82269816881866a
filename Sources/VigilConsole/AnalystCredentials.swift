import Foundation
import VigilCore

/// Who may log in to the console: one shared token (each analyst gives their name with it) or a users file of
/// names with the SHA-256 of each one's password. Secrets are kept only as digests and compared in constant time.
public struct AnalystCredentials: Sendable {
    enum Mode: Sendable {
        case sharedToken(digest: [UInt8])
        case users([String: [UInt8]])
    }

    let mode: Mode

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case emptyToken
        case shortToken(minimum: Int)
        case badUsersLine(Int, String)
        case noUsers

        public var description: String {
            switch self {
            case .emptyToken: "the console token is empty"
            case .shortToken(let minimum): "the console token is shorter than \(minimum) characters"
            case .badUsersLine(let line, let why): "users file line \(line): \(why)"
            case .noUsers: "the users file names no analyst"
            }
        }
    }

    public static let minimumTokenLength = 16

    /// One token shared by the team; surrounding whitespace (a file's final newline) is ignored.
    public static func sharedToken(_ token: String) throws(Problem) -> AnalystCredentials {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .emptyToken }
        guard trimmed.count >= minimumTokenLength else { throw .shortToken(minimum: minimumTokenLength) }
        return AnalystCredentials(mode: .sharedToken(digest: digest(trimmed)))
    }

    /// A users file: one `name:sha256:<64 hex digits of SHA-256(password)>` per line; blank lines and `#` comments
    /// are skipped. (`printf %s "$password" | sha256sum` gives the digits.)
    public static func usersFile(_ contents: String) throws(Problem) -> AnalystCredentials {
        var users: [String: [UInt8]] = [:]
        for (number, raw) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[1] == "sha256" else {
                throw .badUsersLine(number + 1, "expected name:sha256:<hex digest>")
            }
            guard let name = AnalystName.validated(parts[0]) else { throw .badUsersLine(number + 1, "bad analyst name") }
            guard let digest = hexBytes(parts[2]), digest.count == 32 else {
                throw .badUsersLine(number + 1, "the digest is not 64 hex digits")
            }
            guard users[name] == nil else { throw .badUsersLine(number + 1, "analyst named twice") }
            users[name] = digest
        }
        guard !users.isEmpty else { throw .noUsers }
        return AnalystCredentials(mode: .users(users))
    }

    /// The analyst's name if `secret` is right for `name`; nil otherwise.
    public func authenticate(name rawName: String, secret: String) -> String? {
        guard let name = AnalystName.validated(rawName) else { return nil }
        let given = Self.digest(secret)
        switch mode {
        case .sharedToken(let expected):
            return Self.constantTimeEqual(given, expected) ? name : nil
        case .users(let users):
            // Compare against something even for an unknown name, so timing does not tell names apart.
            let expected = users[name] ?? [UInt8](repeating: 0, count: 32)
            return Self.constantTimeEqual(given, expected) && users[name] != nil ? name : nil
        }
    }

    static func digest(_ text: String) -> [UInt8] {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hash.finalize()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// An analyst's name as labels carry it in `reported_by`: 1-64 characters, letters, digits, space and `.-_@'`.
public enum AnalystName {
    public static func validated(_ raw: String) -> String? {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 64 else { return nil }
        for scalar in name.unicodeScalars {
            let allowed = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || " .-_@'".unicodeScalars.contains(scalar)
            guard allowed else { return nil }
        }
        return name
    }
}
