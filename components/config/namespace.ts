/** The stack config namespace this program reads (`lakehouse:<key>`); every problem's key starts with it. */
export const NAMESPACE = "lakehouse";
