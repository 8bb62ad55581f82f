export * from "./version";
export * from "./records";
export * from "./messages";
export * from "./address";
export * from "./envelope";
export * from "./schemas";
export * from "./parse-message";
