'use strict';
// Launcher of telegram-test-api 4.2.1 for govsocial-telegram's local server.
//
//   node server.js <node_modules folder>
//
// Configuration comes as JSON in the environment variable GOVSOCIAL_TELEGRAM_CONFIG:
//   {"host": "127.0.0.1",
//    "bots": [{"token": "...", "id": 1, "username": "humas_bot", "first_name": "Humas"}],
//    "chats": [{"id": -1001, "type": "channel", "title": "...", "username": "...", "members": 0}]}
//
// telegram-test-api itself serves sendMessage, deleteMessage and its client routes
// (/sendMessage, /getUpdatesHistory, ...). This launcher puts three things in front of it:
//   1. a token check: an unknown bot token gets the Bot API's 401 "Unauthorized" answer
//      (telegram-test-api accepts any token);
//   2. getUpdates with the Bot API's offset and limit (an update is given until a later
//      call's offset confirms it; the package's own confirms each update on its first read),
//      and the methods the package lacks, stored in the package's own storage so its
//      getUpdatesHistory shows them: sendPhoto, sendVideo, sendMediaGroup (JSON or multipart),
//      deleteMessages, getChatMemberCount, getChatMember (the bot itself), and getMe answering
//      with the configured bot;
//   3. control routes: POST /_govsocial/members {chat_id, count} sets a member count, and
//      POST /_govsocial/rights {chat_id, rights} sets a bot's rights in its channel for
//      getChatMember (default: administrator who may post and delete messages),
//      POST /_govsocial/retire {method, retired} makes a method unknown, answered as the Bot
//      API answers any unknown method, 404 "Not Found" (a self-hosted server older than it).
// Answers follow https://core.telegram.org/bots/api (Message objects, ok/result envelopes).
// When listening, it prints one JSON line {"port": N} on standard output.

const path = require('path');
const http = require('http');

const modules = process.argv[2];
if (!modules) {
  process.stderr.write('usage: node server.js <node_modules folder>\n');
  process.exit(2);
}
const TelegramServer = require(path.join(modules, 'telegram-test-api'));
const config = JSON.parse(process.env.GOVSOCIAL_TELEGRAM_CONFIG || '{}');
const host = config.host || '127.0.0.1';
const bots = new Map((config.bots || []).map((bot) => [bot.token, bot]));
const chats = new Map((config.chats || []).map((chat) => [String(chat.id), chat]));

// storeTimeout: the package drops stored messages older than this; a test session needs days.
const telegram = new TelegramServer({ host, port: 0, storeTimeout: 7 * 24 * 3600 });

function send(res, status, body) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

function fail(res, status, description) {
  send(res, status, { ok: false, error_code: status, description });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on('data', (chunk) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

// The parameters of a Bot API call: query string, JSON, urlencoded or multipart form
// (https://core.telegram.org/bots/api#making-requests). Uploaded files come back as
// {filename, size}; JSON-serialized fields stay strings (parsed where used).
async function parameters(req) {
  const url = new URL(req.url, 'http://localhost');
  const params = Object.fromEntries(url.searchParams);
  const raw = await readBody(req);
  const type = String(req.headers['content-type'] || '');
  if (raw.length === 0) {
    return params;
  }
  if (type.startsWith('application/json')) {
    return Object.assign(params, JSON.parse(raw.toString('utf8')));
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.assign(params, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  }
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    for (const [name, value] of form.entries()) {
      params[name] = typeof value === 'string' ? value : { filename: value.name, size: value.size };
    }
    return params;
  }
  throw new Error(`unsupported content type ${type}`);
}

function jsonField(value) {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

let fileCounter = 1;
const retired = new Set();
// The rights of each bot in its channel (ChatMemberAdministrator fields), by chat id;
// POST /_govsocial/rights {chat_id, rights} replaces them ({"status": "member"} demotes).
const rights = new Map();

// A PhotoSize array for a photo given as an upload, attach://name, a URL or a file_id.
function photoSizes(value, params) {
  let file = value;
  if (typeof value === 'string' && value.startsWith('attach://')) {
    file = params[value.slice('attach://'.length)];
    if (file === undefined) {
      throw new Error(`Bad Request: file ${value} was not attached`);
    }
  }
  if (file === undefined || file === '') {
    throw new Error('Bad Request: there is no photo in the request');
  }
  const id = `photo-${fileCounter++}`;
  const size = typeof file === 'object' ? file.size : 0;
  return [{ file_id: id, file_unique_id: `u${id}`, width: 1, height: 1, file_size: size }];
}

// A Video object (https://core.telegram.org/bots/api#video) for a video given as an upload,
// attach://name, a URL or a file_id. Telegram reads the file itself; this test server takes
// the width, height and duration the bot sent, and records the cover when one came.
function videoOf(value, params, fields) {
  let file = value;
  if (typeof value === 'string' && value.startsWith('attach://')) {
    file = params[value.slice('attach://'.length)];
    if (file === undefined) {
      throw new Error(`Bad Request: file ${value} was not attached`);
    }
  }
  if (file === undefined || file === '') {
    throw new Error('Bad Request: there is no video in the request');
  }
  const id = `video-${fileCounter++}`;
  const video = {
    file_id: id,
    file_unique_id: `u${id}`,
    width: Number(fields.width || 0),
    height: Number(fields.height || 0),
    duration: Number(fields.duration || 0),
    mime_type: 'video/mp4',
    file_size: typeof file === 'object' ? file.size : 0,
  };
  if (typeof file === 'object' && file.filename) {
    video.file_name = file.filename;
  }
  if (fields.cover !== undefined) {
    video.cover = photoSizes(fields.cover, params);
  }
  return video;
}

function chatOf(chatId) {
  const known = chats.get(String(chatId));
  const numeric = Number(chatId);
  const chat = { id: Number.isFinite(numeric) ? numeric : null, type: 'channel' };
  if (known) {
    Object.assign(chat, { type: known.type || 'channel', title: known.title });
    if (known.username) {
      chat.username = known.username;
    }
  }
  return chat;
}

// Store a message the bot sent the way telegram-test-api stores sendMessage, and answer
// a Message object (date in seconds, as the Bot API gives it).
function storeBotMessage(token, message) {
  const stored = telegram.addBotMessage(message, token);
  return Object.assign({}, stored, {
    date: Math.floor(Date.now() / 1000),
    chat: chatOf(message.chat_id),
    reply_markup: undefined,
    botToken: undefined,
  });
}

function replyParameters(params) {
  return params.reply_parameters === undefined ? undefined : jsonField(params.reply_parameters);
}

// getUpdates as the Bot API answers it (https://core.telegram.org/bots/api#getupdates):
// updates from the earliest unconfirmed one, at most `limit` (1-100, default 100); an update
// is confirmed once getUpdates is called with an offset higher than its update_id, and is
// never given again; a negative offset gives the last -offset updates and forgets the rest.
// telegram-test-api's own getUpdates ignores offset and limit and gives each update once, on
// its first read (confirming on delivery), which no crash-safe reader could survive.
function pendingUpdates(bot) {
  return telegram.storage.userMessages.filter((update) => update.botToken === bot.token && !update.isRead);
}

const methods = {
  getupdates(params, bot) {
    const pending = pendingUpdates(bot);
    if (params.offset !== undefined && params.offset !== '') {
      const offset = Number(params.offset);
      if (!Number.isInteger(offset)) {
        throw new Error('Bad Request: offset must be an integer');
      }
      const confirmed = offset >= 0
        ? pending.filter((update) => update.updateId < offset)
        : pending.slice(0, Math.max(0, pending.length + offset));
      confirmed.forEach((update) => { update.isRead = true; }); // kept for getUpdatesHistory
    }
    let limit = params.limit === undefined || params.limit === '' ? 100 : Number(params.limit);
    limit = Number.isInteger(limit) ? Math.min(100, Math.max(1, limit)) : 100;
    return pendingUpdates(bot).slice(0, limit).map((update) => telegram.constructor.formatUpdate(update));
  },
  getme(params, bot) {
    return { id: bot.id, is_bot: true, first_name: bot.first_name || bot.username, username: bot.username };
  },
  sendphoto(params, bot) {
    const message = {
      chat_id: params.chat_id,
      photo: photoSizes(params.photo, params),
      caption: params.caption,
      reply_parameters: replyParameters(params),
    };
    return storeBotMessage(bot.token, message);
  },
  sendvideo(params, bot) {
    const message = {
      chat_id: params.chat_id,
      video: videoOf(params.video, params, params),
      caption: params.caption,
      reply_parameters: replyParameters(params),
    };
    return storeBotMessage(bot.token, message);
  },
  sendmediagroup(params, bot) {
    const media = jsonField(params.media);
    if (!Array.isArray(media) || media.length < 2 || media.length > 10) {
      throw new Error('Bad Request: media must include 2-10 items');
    }
    const group = `group-${fileCounter++}`;
    const files = media.map((item) => (item.type === 'video'
      ? { video: videoOf(item.media, params, item) }
      : { photo: photoSizes(item.media, params) }));
    return media.map((item, index) => storeBotMessage(bot.token, Object.assign({
      chat_id: params.chat_id,
      media_group_id: group,
      caption: item.caption,
      reply_parameters: replyParameters(params),
    }, files[index])));
  },
  deletemessages(params) {
    const chatId = Number(params.chat_id);
    const ids = jsonField(params.message_ids);
    if (!Number.isFinite(chatId) || !Array.isArray(ids) || ids.length < 1 || ids.length > 100) {
      throw new Error('Bad Request: please specify chat_id and 1-100 message_ids');
    }
    // "If some of the specified messages can't be found, they are skipped."
    ids.forEach((id) => telegram.deleteMessage(chatId, Number(id)));
    return true;
  },
  getchatmember(params, bot) {
    const chat = chats.get(String(params.chat_id));
    if (!chat) {
      throw new Error('Bad Request: chat not found');
    }
    if (Number(params.user_id) !== bot.id) {
      throw new Error('Bad Request: user not found');
    }
    const user = { id: bot.id, is_bot: true, first_name: bot.first_name || bot.username, username: bot.username };
    const given = rights.get(String(params.chat_id)) || {};
    if (given.status === 'member' || given.status === 'left') {
      return { status: given.status, user };
    }
    return Object.assign(
      {
        status: 'administrator',
        user,
        can_be_edited: false,
        is_anonymous: false,
        can_manage_chat: true,
        can_delete_messages: true,
        can_manage_video_chats: false,
        can_restrict_members: false,
        can_promote_members: false,
        can_change_info: false,
        can_invite_users: false,
        can_post_stories: false,
        can_edit_stories: false,
        can_delete_stories: false,
        can_post_messages: true,
        can_edit_messages: true,
      },
      given,
    );
  },
  getchatmembercount(params) {
    const chat = chats.get(String(params.chat_id));
    if (!chat) {
      throw new Error('Bad Request: chat not found');
    }
    return chat.members || 0;
  },
};

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'POST' && url.pathname === '/_govsocial/members') {
    const params = await parameters(req);
    const chat = chats.get(String(params.chat_id));
    if (!chat) {
      fail(res, 400, 'Bad Request: chat not found');
      return;
    }
    chat.members = Number(params.count);
    send(res, 200, { ok: true, result: true });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/_govsocial/rights') {
    const params = await parameters(req);
    rights.set(String(params.chat_id), params.rights || {});
    send(res, 200, { ok: true, result: true });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/_govsocial/retire') {
    const params = await parameters(req);
    const name = String(params.method || '').toLowerCase();
    if (params.retired === false) {
      retired.delete(name);
    } else {
      retired.add(name);
    }
    send(res, 200, { ok: true, result: true });
    return;
  }
  const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
  if (match) {
    const bot = bots.get(decodeURIComponent(match[1]));
    if (!bot) {
      fail(res, 401, 'Unauthorized');
      return;
    }
    if (retired.has(match[2].toLowerCase())) {
      fail(res, 404, 'Not Found');
      return;
    }
    const method = methods[match[2].toLowerCase()]; // method names are case-insensitive
    if (method) {
      try {
        send(res, 200, { ok: true, result: method(await parameters(req), bot) });
      } catch (error) {
        fail(res, 400, String(error.message || error));
      }
      return;
    }
  }
  telegram.webServer(req, res); // everything else: telegram-test-api itself
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => fail(res, 500, `Internal Server Error: ${error}`));
});
server.listen(0, host, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
