import Foundation

/// Line-oriented terminal output, written unbuffered so that the live view reads well through pipes and `tee`.
enum Console {
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func warning(_ text: String) {
        FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("error: " + text + "\n").utf8))
    }
}

/// A failure that ends the run with a message for the operator (what failed, why, what to do).
struct LoadTestError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
