// The chat page's small helpers: scroll to the START of a new answer (not the bottom), copy an answer as Markdown
// with its citations, and keep each message's aria-label plain text (Gradio puts the message's HTML there).
(() => {
  "use strict";
  const english = new URLSearchParams(location.search).get("lang") === "en";
  const plain = (html) => {
    const box = document.createElement("div");
    box.innerHTML = html;
    return (box.textContent || "").replace(/\s+/g, " ").trim();
  };

  // The element that scrolls the messages: Gradio's .bubble-wrap, or the chat block when it has a max height.
  function scroller(el, chat) {
    for (let node = el.parentElement; node && node !== chat.parentElement; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && node.scrollHeight > node.clientHeight + 1) return node;
    }
    return chat.querySelector(".bubble-wrap") || chat;
  }

  let lastAnswer = null;
  function scrollToNewest() {
    const chat = document.querySelector("#pqa-chat");
    if (!chat) return;
    const answers = chat.querySelectorAll(".message.bot .pqa-answer");
    const newest = answers[answers.length - 1];
    if (!newest) return;
    // While it searches show the question; once answered, the answer's first line. Once per answer: a re-render
    // of the same messages does not pull the reader back.
    const pendingNow = newest.classList.contains("pqa-pending");
    const key = answers.length + (pendingNow ? ":pending" : "");
    if (key === lastAnswer) return;
    lastAnswer = key;
    const wrap = scroller(newest, chat);
    // The question it answers stays in view above it when it is short; a long one gives way to the answer.
    const bot = newest.closest(".message.bot") || newest;
    const users = chat.querySelectorAll(".message.user");
    const user = users[users.length - 1];
    const short = user && user.getBoundingClientRect().height < wrap.clientHeight * 0.3;
    const target = user && (pendingNow || short) ? user : bot;
    const offset = target.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
    wrap.scrollTop += offset - 8;
    const top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 80) window.scrollBy(0, top - 16);
  }

  // What a message says, as read: its visible text, without the copy's hidden Markdown.
  function spoken(el) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll(".pqa-md, .pqa-actions").forEach((n) => n.remove());
    return (copy.textContent || "").replace(/\s+/g, " ").trim().slice(0, 300);
  }

  function plainLabels(root) {
    root.querySelectorAll("#pqa-chat [aria-label]").forEach((el) => {
      const label = el.getAttribute("aria-label") || "";
      const isMessage = el.matches('[data-testid="bot"], [data-testid="user"]');
      const wanted = isMessage ? spoken(el) : label.includes("<") ? plain(label).slice(0, 300) : label;
      if (wanted && wanted !== label) el.setAttribute("aria-label", wanted);
    });
  }

  const observer = new MutationObserver(() => {
    plainLabels(document);
    scrollToNewest();
  });
  const start = () => observer.observe(document.body, { subtree: true, childList: true, attributes: true,
                                                         attributeFilter: ["aria-label", "class"] });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  // An answer's Markdown (server-made, in its hidden .pqa-md) with its source links made absolute.
  const absolute = (markdown) =>
    markdown.replace(/\]\((doc\/[^)]*)\)/g, (_, path) => "](" + new URL(path, document.baseURI).href + ")");

  // The whole conversation on the page as Markdown: each question a heading, its answer with the citations.
  function conversation() {
    const out = ["# Parlement Q&A - " + (english ? "conversation" : "gesprek"), ""];
    document.querySelectorAll("#pqa-chat .message.user, #pqa-chat .message.bot").forEach((message) => {
      const answer = message.querySelector(".pqa-md");
      if (answer) out.push(absolute(answer.textContent).trim(), "");
      else if (message.classList.contains("user")) {
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
    link.download = english ? "conversation.md" : "gesprek.md";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest(".pqa-copy");
    if (!button) return;
    const holder = button.closest(".pqa-actions");
    const markdown = holder && holder.querySelector(".pqa-md");
    const text = absolute(markdown ? markdown.textContent : "");
    const done = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = english ? "Copied" : "Gekopieerd";
    } catch (err) {
      button.textContent = english ? "Could not copy" : "Kopiëren lukte niet";
    }
    setTimeout(() => { button.textContent = done; }, 2000);
  });
})();
