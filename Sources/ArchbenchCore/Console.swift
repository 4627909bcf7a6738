import Foundation

/// Diagnostics and progress go to stderr, so stdout carries only the report (and stays valid JSON).
public enum Console {
    public static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
