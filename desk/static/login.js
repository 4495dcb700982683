"use strict";
document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  const response = await fetch("api/login", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json" },
    body: JSON.stringify({ username: document.getElementById("username").value,
                           password: document.getElementById("password").value }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { error.textContent = data.message || "登录失败"; return; }
  const role = data.user.role;
  window.location.href = role === "admin" ? "admin" : role === "supervisor" ? "supervisor" : "./";
});
