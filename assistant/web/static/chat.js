// The chat page's small helpers: scroll to the START of a new answer (not the bottom), copy an answer as Markdown
// with its citations, and keep each message's aria-label plain text (Gradio puts the message's HTML there).
(() => {
  "use strict";
  const plain = (html) => {
    const box = document.createElement("div");
    box.innerHTML = html;
    return (box.textContent || "").replace(/\s+/g, " ").trim();
  };

  let lastAnswer = null;
  function scrollToNewest() {
    const chat = document.querySelector("#pqa-chat");
    if (!chat) return;
    const answers = chat.querySelectorAll(".message.bot .pqa-answer");
    const newest = answers[answers.length - 1];
    if (!newest || newest === lastAnswer) return;
    lastAnswer = newest;
    const wrap = chat.querySelector(".bubble-wrap") || chat;
    // While it searches show the question; once answered, the answer's first line.
    const pendingNow = newest.classList.contains("pqa-pending");
    const bot = newest.closest(".message-row, .message") || newest;
    const userRows = chat.querySelectorAll(".message-row.user-row, .message.user");
    const target = pendingNow && userRows.length ? userRows[userRows.length - 1] : bot;
    const offset = target.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
    wrap.scrollTop += offset - 8;
    const top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 80) window.scrollBy(0, top - 16);
  }

  function plainLabels(root) {
    root.querySelectorAll("#pqa-chat [aria-label]").forEach((el) => {
      const label = el.getAttribute("aria-label") || "";
      if (label.includes("<")) el.setAttribute("aria-label", plain(label).slice(0, 300));
    });
  }

  const observer = new MutationObserver(() => {
    plainLabels(document);
    scrollToNewest();
  });
  const start = () => observer.observe(document.body, { subtree: true, childList: true, attributes: true,
                                                         attributeFilter: ["aria-label", "class"] });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  // An answer's Markdown (server-made, in data-md) with its source links made absolute.
  const absolute = (markdown) =>
    markdown.replace(/\]\((doc\/[^)]*)\)/g, (_, path) => "](" + new URL(path, document.baseURI).href + ")");

  // The whole conversation on the page as Markdown: each question a heading, its answer with the citations.
  function conversation() {
    const out = ["# Parlement Q&A - gesprek", ""];
    document.querySelectorAll("#pqa-chat .message").forEach((message) => {
      const answer = message.querySelector("[data-md]");
      if (answer) out.push(absolute(answer.getAttribute("data-md")).trim(), "");
      else if (message.closest(".user-row") || message.classList.contains("user")) {
        const text = (message.textContent || "").replace(/\s+/g, " ").trim();
        if (text) out.push("## " + text, "");
      }
    });
    return out.join("\n").trim() + "\n";
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#pqa-export");
    if (!button) return;
    const blob = new Blob([conversation()], { type: "text/markdown;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "gesprek.md";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest(".pqa-copy");
    if (!button) return;
    const holder = button.closest("[data-md]");
    const text = absolute(holder ? holder.getAttribute("data-md") : "");
    const done = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Gekopieerd";
    } catch (err) {
      button.textContent = "Kopiëren lukte niet";
    }
    setTimeout(() => { button.textContent = done; }, 2000);
  });
})();
