// Test sign-in on the Firebase Auth emulator, shown only when the server runs with
// MOVIEREC_AUTH=firebase and FIREBASE_AUTH_EMULATOR_HOST (GET /api/auth says so).
// Signs in with email + password through the emulator's REST API (creating the account
// on first use), keeps the ID token in memory, and gives app.js the Authorization header
// for /recommend and /feedback (window.movierecSignIn.headers). Self-contained on purpose.
"use strict";

(() => {
  const session = { token: null };
  window.movierecSignIn = {
    headers: () => (session.token ? { Authorization: `Bearer ${session.token}` } : {}),
  };

  async function identityToolkit(emulator, method, email, password) {
    const response = await fetch(`${emulator}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=emulator`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password, returnSecureToken: true }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
    return body;
  }

  // An existing test account signs in; an unknown email is created on the emulator.
  async function signIn(emulator, email, password) {
    try {
      return await identityToolkit(emulator, "signInWithPassword", email, password);
    } catch (error) {
      if (!/EMAIL_NOT_FOUND|INVALID_LOGIN_CREDENTIALS/.test(error.message)) throw error;
      return identityToolkit(emulator, "signUp", email, password);
    }
  }

  function section(emulator) {
    const text = (tag, attrs, value) => Object.assign(document.createElement(tag), attrs, { textContent: value ?? "" });
    const form = document.createElement("form");
    form.id = "signin-form";
    form.className = "user-form";
    const email = text("input", { id: "signin-email", type: "email", value: "test@example.com", required: true });
    const password = text("input", { id: "signin-password", type: "password", value: "movierec-test", required: true });
    const status = text("p", { id: "signin-status", className: "hint" },
      "Firebase Auth emulator: sign in a test user; /recommend and /feedback then carry its ID token.");
    status.setAttribute("aria-live", "polite");
    form.append(text("label", { htmlFor: "signin-email" }, "Email"), email,
      text("label", { htmlFor: "signin-password" }, "Password"), password,
      text("button", { id: "signin", type: "submit" }, "Sign in (emulator)"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const account = await signIn(emulator, email.value, password.value);
        session.token = account.idToken;
        status.textContent = `signed in as ${account.email} (uid ${account.localId})`;
        status.dataset.uid = account.localId;
      } catch (error) {
        session.token = null;
        status.textContent = `sign-in failed: ${error.message}`;
      }
    });
    const card = text("section", { id: "signin-card", className: "card" });
    card.append(text("h2", {}, "Sign in"), form, status);
    return card;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const response = await fetch("/api/auth", { cache: "no-store" });
      const auth = await response.json();
      if (auth.mode === "firebase" && auth.emulator) document.querySelector("main").prepend(section(auth.emulator));
    } catch (_) {
      // No sign-in offered: the page works as before.
    }
  });
})();
