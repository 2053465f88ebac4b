// The review page's keyboard, on every page: j/k or the arrow keys move between shots, 1-9
// go to that take of the shot, h/l to the previous or next take, Space plays or pauses it, and p picks it on the served page.
(function () {
  "use strict";
  // The take (figure) and shot last gone to, by element id: the live view replaces cards
  // (and their elements) after a pick or a finished take, so elements are found again by id.
  var currentTake = "";
  var currentShot = "";

  function shots() {
    return Array.prototype.slice.call(document.querySelectorAll("article.shot"));
  }

  function shotOf(element) {
    return element && element.closest ? element.closest("article.shot") : null;
  }

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function hereShot() {
    return shotOf(document.activeElement) || shotOf(byId(currentTake)) || byId(currentShot);
  }

  function goShot(step) {
    var list = shots();
    var left = hereShot();
    var here = list.indexOf(left);
    var next = list[Math.min(list.length - 1, Math.max(0, here + step))];
    if (next) {
      if (left && left !== next) {
        // Moving on stops the takes playing in the shot left behind.
        left.querySelectorAll("video").forEach(function (video) {
          video.pause();
        });
      }
      currentTake = "";
      currentShot = next.id;
      next.focus();
      next.scrollIntoView({ block: "start" });
    }
  }

  function goTake(number, figure) {
    var shot = hereShot() || shots()[0];
    var take = figure || (shot && shot.querySelector('figure.take[data-take="' + number + '"]'));
    if (!take) {
      return;
    }
    currentTake = take.id;
    currentShot = shot.id;
    var target = take.querySelector("video") || shot;
    target.focus();
    take.scrollIntoView({ block: "nearest" });
  }

  function stepTake(step) {
    // h/l: the previous or next take of the shot, for shots of more than nine takes too.
    var shot = hereShot() || shots()[0];
    if (!shot) {
      return;
    }
    var takes = Array.prototype.slice.call(shot.querySelectorAll("figure.take"));
    var here = takes.indexOf(focusedTake());
    var next = takes[here < 0 ? 0 : Math.min(takes.length - 1, Math.max(0, here + step))];
    if (next) {
      goTake(next.dataset.take, next);
    }
  }

  function focusedTake() {
    var active = document.activeElement;
    var take = active && active.closest ? active.closest("figure.take") : null;
    return take || byId(currentTake);
  }

  function playPause() {
    var take = focusedTake();
    var video = take ? take.querySelector("video") : null;
    if (!video) {
      var shot = shotOf(document.activeElement);
      video = shot ? shot.querySelector("figure.take video") : null;
    }
    if (!video) {
      return false;
    }
    if (video.paused) {
      video.play();
    } else {
      video.pause();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
      return;
    }
    var key = event.key;
    var handled = true;
    if (key === "j" || key === "ArrowDown") {
      goShot(1);
    } else if (key === "k" || key === "ArrowUp") {
      goShot(-1);
    } else if (/^[1-9]$/.test(key)) {
      goTake(key);
    } else if (key === "h" || key === "l") {
      stepTake(key === "l" ? 1 : -1);
    } else if (key === " " && tag !== "BUTTON" && tag !== "A" && tag !== "VIDEO") {
      // A focused player plays and pauses itself on Space (Chromium: on key up).
      handled = playPause();
    } else if (key === "p" && focusedTake()) {
      var button = focusedTake().querySelector("button.pick");
      handled = Boolean(button);
      if (button) {
        button.click();
      }
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });
})();

// The review page's live view: poll the review server every 2 s and replace the cards that
// changed, and send picks. Opened from disk (data-live="0") the page is static and this does
// nothing. Playing videos and the focused button survive a card's replacement.
(function () {
  "use strict";
  if (document.body.dataset.live !== "1") {
    return;
  }
  var POLL_MS = 2000;
  var token = document.querySelector('meta[name="rdpipe-token"]').content;
  var status = document.getElementById("status");
  var busy = false;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function fragment(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  function swap(old, html) {
    var fresh = fragment(html);
    var active = document.activeElement;
    var inside = active && old.contains(active);
    var focusedId = inside ? active.id : "";
    // A focused player has no id of its own: its take (figure) has one.
    var figure = inside && !focusedId ? active.closest("figure.take") : null;
    var focusedTake = figure && figure.id ? figure.id : "";
    var playing = [];
    old.querySelectorAll("video[data-clip]").forEach(function (video) {
      var selector = 'video[data-clip="' + CSS.escape(video.dataset.clip) + '"]';
      var twin = fresh.querySelector(selector);
      if (twin) {
        if (!video.paused) {
          playing.push(video);
        }
        twin.replaceWith(video);
      }
    });
    old.replaceWith(fresh);
    // Chromium pauses a video taken out of the page, even for a moment: play it on.
    playing.forEach(function (video) {
      if (video.paused) {
        video.play();
      }
    });
    var again = focusedId ? document.getElementById(focusedId) : null;
    if (!again && focusedTake) {
      var take = document.getElementById(focusedTake);
      again = take ? take.querySelector("video") || take.closest("article.shot") : null;
    }
    if (again) {
      again.focus();
    }
  }

  function apply(state) {
    var header = document.getElementById("storyboard");
    if (header.dataset.version !== state.header.version) {
      swap(header, state.header.html);
    }
    var list = document.getElementById("shots");
    var wanted = {};
    state.shots.forEach(function (shot, position) {
      wanted[shot.id] = true;
      var card = document.getElementById("shot-" + shot.id);
      if (!card) {
        list.insertBefore(fragment(shot.html), list.children[position] || null);
      } else if (card.dataset.version !== shot.version) {
        swap(card, shot.html);
      }
    });
    Array.prototype.slice.call(list.children).forEach(function (card) {
      if (!wanted[card.dataset.shot]) {
        card.remove();
      }
    });
    document.body.dataset.updated = String(state.updated_at);
  }

  function poll() {
    return fetch("api/state", { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the server answered " + response.status);
        }
        return response.json();
      })
      .then(apply);
  }

  function loop() {
    poll()
      .catch(function (error) {
        say("Live view paused: " + error.message, true);
      })
      .then(function () {
        window.setTimeout(loop, POLL_MS);
      });
  }

  function pick(shot, take) {
    busy = true;
    say("Saving the pick for " + shot + "…");
    return fetch("api/pick", {
      method: "POST",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Rdpipe-Token": token },
      body: JSON.stringify({ shot: shot, take: take }),
    })
      .then(function (response) {
        return response.json().then(function (body) {
          say(response.ok ? body.message : body.error, !response.ok);
        });
      })
      .then(poll)
      .catch(function (error) {
        say("Could not save the pick: " + error.message, true);
      })
      .then(function () {
        busy = false;
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.pick");
    if (!button || busy) {
      return;
    }
    var take = button.dataset.take === "" ? null : Number(button.dataset.take);
    pick(button.dataset.shot, take);
  });

  window.setTimeout(loop, POLL_MS);
})();
